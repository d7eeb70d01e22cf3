import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alwaysAllow, alwaysDeny } from './always.js';
import { aggregateMessage, forbiddenMessage, unionAuthorizer, unionRuleResolver } from './interface.js';
import type { Attributes, Authorizer, AuthorizerResult, RuleResolver } from './interface.js';

const alice = { name: 'alice', groups: ['system:authenticated'] };

function attrs(over: Partial<Attributes>): Attributes {
  return {
    user: alice,
    verb: 'get',
    resourceRequest: true,
    path: '',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'pods',
    subresource: '',
    namespace: '',
    name: '',
    ...over,
  };
}

describe('authz - forbiddenMessage', () => {
  const cases: { name: string; a: Attributes; reason: string; want: string }[] = [
    {
      name: 'namespaced collection',
      a: attrs({ verb: 'list', namespace: 'default' }),
      reason: '',
      want: 'User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
    },
    {
      name: 'cluster scope with group',
      a: attrs({ verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles' }),
      reason: '',
      want: 'User "alice" cannot create resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    },
    {
      name: 'subresource',
      a: attrs({ namespace: 'ns1', name: 'web', subresource: 'log' }),
      reason: '',
      want: 'User "alice" cannot get resource "pods/log" in API group "" in the namespace "ns1"',
    },
    {
      name: 'non-resource path',
      a: attrs({ resourceRequest: false, path: '/foo', resource: '' }),
      reason: '',
      want: 'User "alice" cannot get path "/foo"',
    },
    {
      name: 'reason appended unsanitised, message sanitised',
      a: attrs({ resourceRequest: false, path: '/<x>&' }),
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "<y>" not found',
      want: 'User "alice" cannot get path "/&lt;x&gt;&amp;": RBAC: clusterrole.rbac.authorization.k8s.io "<y>" not found',
    },
    {
      name: 'quotes escaped as Go %q does',
      a: attrs({ user: { name: 'a"b', groups: [] }, namespace: 'default' }),
      reason: '',
      want: 'User "a\\"b" cannot get resource "pods" in API group "" in the namespace "default"',
    },
  ];
  for (const tc of cases) test(tc.name, () => assert.equal(forbiddenMessage(tc.a, tc.reason), tc.want));
});

const fixed = (decision: AuthorizerResult['decision'], reason = ''): Authorizer => ({
  authorize: async () => ({ decision, reason }),
});
const failing = (msg: string): Authorizer => ({
  authorize: async () => {
    throw new Error(msg);
  },
});

describe('authz - unionAuthorizer', () => {
  const cases: { name: string; chain: Authorizer[]; want?: AuthorizerResult; throws?: string }[] = [
    { name: 'empty union has no opinion', chain: [], want: { decision: 'noOpinion', reason: '' } },
    {
      name: 'first allow wins',
      chain: [fixed('noOpinion', 'a'), fixed('allow', 'b'), fixed('deny', 'c')],
      want: { decision: 'allow', reason: 'b' },
    },
    {
      name: 'first deny wins',
      chain: [fixed('deny', 'no'), fixed('allow', 'yes')],
      want: { decision: 'deny', reason: 'no' },
    },
    {
      name: 'no opinion joins reasons',
      chain: [fixed('noOpinion', 'a'), fixed('noOpinion'), fixed('noOpinion', 'c')],
      want: { decision: 'noOpinion', reason: 'a\nc' },
    },
    {
      name: 'an error does not stop a later allow',
      chain: [failing('boom'), alwaysAllow],
      want: { decision: 'allow', reason: '' },
    },
    { name: 'an error with no decision is thrown', chain: [failing('boom'), alwaysDeny], throws: 'boom' },
    { name: 'several errors are aggregated', chain: [failing('x'), failing('y')], throws: '[x, y]' },
  ];
  for (const tc of cases) {
    test(tc.name, async () => {
      const result = unionAuthorizer(...tc.chain).authorize(attrs({}));
      if (tc.throws) await assert.rejects(result, { message: tc.throws });
      else assert.deepEqual(await result, tc.want);
    });
  }
});

describe('authz - always', () => {
  test('alwaysAllow allows and reports every rule', async () => {
    assert.deepEqual(await alwaysAllow.authorize(attrs({})), { decision: 'allow', reason: '' });
    assert.deepEqual(alwaysAllow.rulesFor(alice, 'default').nonResourceRules, [
      { verbs: ['*'], nonResourceURLs: ['*'] },
    ]);
  });
  test('alwaysDeny has no opinion, with upstream reason', async () => {
    assert.deepEqual(await alwaysDeny.authorize(attrs({})), {
      decision: 'noOpinion',
      reason: 'Everything is forbidden.',
    });
  });
});

describe('authz - unionRuleResolver', () => {
  test('concatenates rules, ORs incomplete and aggregates errors', () => {
    const incomplete: RuleResolver = {
      rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node: no' }),
    };
    const got = unionRuleResolver(alwaysAllow, incomplete, alwaysDeny).rulesFor(alice, 'default');
    assert.equal(got.resourceRules.length, 1);
    assert.equal(got.incomplete, true);
    assert.equal(got.evaluationError, 'node: no');
  });
  test('aggregateMessage drops duplicates and brackets several', () => {
    assert.equal(aggregateMessage(['a', 'a']), 'a');
    assert.equal(aggregateMessage(['a', 'b', 'a']), '[a, b]');
  });
});
