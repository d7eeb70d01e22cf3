import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Attributes, Authorizer, RuleResolver } from './interface.js';
import { newAuthorizer, validateAuthorizationModes } from './modes.js';

const attrs = (groups: string[]): Attributes => ({
  user: { name: 'u', groups },
  verb: 'get',
  resourceRequest: true,
  path: '',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  subresource: '',
  namespace: 'default',
  name: 'p',
});

const fixed = (decision: 'allow' | 'noOpinion', reason: string): Authorizer & RuleResolver => ({
  authorize: async () => ({ decision, reason }),
  rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: decision === 'noOpinion' }),
});

describe('authorization modes - validation', () => {
  test('the default and upstream combinations are valid', () => {
    assert.deepEqual(validateAuthorizationModes(['Node', 'RBAC']), []);
    assert.deepEqual(validateAuthorizationModes(['AlwaysAllow']), []);
    assert.deepEqual(validateAuthorizationModes(['RBAC', 'AlwaysDeny']), []);
  });
  test('unknown, unsupported, duplicated and empty lists are refused', () => {
    assert.match(validateAuthorizationModes(['Nodes'])[0]!, /authorization-mode "Nodes" is not a valid mode/);
    assert.match(validateAuthorizationModes(['Webhook'])[0]!, /"Webhook" is not supported by hubspoke/);
    assert.match(validateAuthorizationModes(['RBAC', 'RBAC'])[0]!, /has mode specified more than once/);
    assert.match(validateAuthorizationModes([])[0]!, /at least one authorization-mode must be passed/);
  });
});

describe('authorization modes - union', () => {
  const by = { node: fixed('noOpinion', 'node says no'), rbac: fixed('allow', 'rbac says yes') };
  test('modes run in order; noOpinion passes on', async () => {
    const authorizer = newAuthorizer(['Node', 'RBAC'], by);
    assert.deepEqual(await authorizer.authorize(attrs([])), { decision: 'allow', reason: 'rbac says yes' });
  });
  test('AlwaysDeny has no opinion, so a later mode still decides', async () => {
    const authorizer = newAuthorizer(['AlwaysDeny', 'RBAC'], by);
    assert.equal((await authorizer.authorize(attrs([]))).decision, 'allow');
    const denyOnly = newAuthorizer(['AlwaysDeny'], by);
    assert.equal((await denyOnly.authorize(attrs([]))).decision, 'noOpinion');
  });
  test('system:masters is allowed whatever the modes', async () => {
    const authorizer = newAuthorizer(['AlwaysDeny'], by);
    assert.equal((await authorizer.authorize(attrs(['system:masters']))).decision, 'allow');
  });
  test('without RBAC nothing from it is consulted', async () => {
    const authorizer = newAuthorizer(['Node'], by);
    assert.deepEqual(await authorizer.authorize(attrs([])), { decision: 'noOpinion', reason: 'node says no' });
  });
  test('rule resolution is the union of the modes', () => {
    const ruleResolver = newAuthorizer(['Node', 'RBAC'], by);
    assert.equal(ruleResolver.rulesFor({ name: 'u', groups: [] }, 'default').incomplete, true);
  });
});
