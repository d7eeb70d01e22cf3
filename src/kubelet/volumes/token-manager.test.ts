import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeClient } from '../../lib/kube-client.js';
import { TokenManager } from './token-manager.js';

test('TokenRequest bound to the pod; cached until 80 % of the lifetime (or 24 h), then renewed', async (t) => {
  const requests: { path: string; body: any }[] = [];
  let lifetimeMs = 1000_000;
  const client = {
    request: async (_m: string, path: string, body: any) => {
      requests.push({ path, body });
      return {
        status: {
          token: `tok-${requests.length}`,
          expirationTimestamp: new Date(Date.now() + lifetimeMs).toISOString(),
        },
      };
    },
  } as unknown as KubeClient;
  const tm = new TokenManager(client);
  const spec = { namespace: 'ns', serviceAccount: 'sa', podName: 'p', podUID: 'u1', expirationSeconds: 3607 };
  const a = await tm.get(spec);
  assert.equal(a.token, 'tok-1');
  assert.equal(requests[0]!.path, '/api/v1/namespaces/ns/serviceaccounts/sa/token');
  assert.deepEqual(requests[0]!.body.spec, {
    expirationSeconds: 3607,
    boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u1' },
  });
  const expected = Date.now() + 0.8 * lifetimeMs;
  assert.ok(Math.abs(a.refreshAt - expected) < 1000, 'refresh at 80 % of the lifetime');
  assert.equal((await tm.get(spec)).token, 'tok-1', 'cached');
  assert.equal((await tm.get({ ...spec, audience: 'vault' })).token, 'tok-2', 'one token per audience');
  assert.deepEqual(requests[1]!.body.spec.audiences, ['vault']);

  lifetimeMs = 50;
  tm.forget('u1');
  await tm.get(spec);
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 45 });
  assert.equal((await tm.get(spec)).token, 'tok-4', 'renewed once 80 % has passed');
  t.mock.timers.reset();

  // A long-lived token is renewed after a day at the latest.
  assert.equal(TokenManager.refreshAt({ token: 'x', issuedAt: 0, expiresAt: 365 * 86_400_000 }), 86_400_000);
});
