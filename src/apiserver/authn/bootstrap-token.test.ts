// Bootstrap tokens: the identity a good token gets and each reason a token is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../api/resource.js';
import { bootstrapTokenAuthenticator, bootstrapTokenExpired } from './bootstrap-token.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function secret(data: Record<string, string>, more: Partial<KubeObject> = {}): KubeObject {
  return {
    metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    ...more,
  };
}

const good = {
  'token-id': 'abcdef',
  'token-secret': '0123456789abcdef',
  'usage-bootstrap-authentication': 'true',
  'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
};
const token = 'abcdef.0123456789abcdef';

function authn(s: KubeObject | undefined) {
  return bootstrapTokenAuthenticator(async (ns, name) =>
    ns === 'kube-system' && name === 'bootstrap-token-abcdef' ? s : undefined
  );
}

async function rejection(s: KubeObject, t = token): Promise<string> {
  try {
    await authn(s).authenticateToken(t, ['api']);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the token was accepted');
}

describe('bootstrap tokens', () => {
  it('authenticate as system:bootstrap:<id> in system:bootstrappers plus the extra groups, sorted', async () => {
    const r = await authn(
      secret({ ...good, expiration: new Date(Date.now() + 3600_000).toISOString() })
    ).authenticateToken(token, ['api']);
    assert.deepEqual(r, {
      user: {
        name: 'system:bootstrap:abcdef',
        groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'],
      },
      audiences: ['api'],
    });
  });

  it('are not ours when malformed or without a Secret', async () => {
    assert.equal(await authn(secret(good)).authenticateToken('abcdef.short', ['api']), null);
    assert.equal(await authn(undefined).authenticateToken(token, ['api']), null);
  });

  it('are refused when expired, unparseable expiry, wrong usage, wrong secret, bad group or type', async () => {
    assert.match(await rejection(secret({ ...good, expiration: '2020-01-01T00:00:00Z' })), /expired at 2020-01-01/);
    assert.match(await rejection(secret({ ...good, expiration: 'tomorrow' })), /expired at tomorrow/);
    assert.match(
      await rejection(secret({ ...good, 'usage-bootstrap-authentication': 'false' })),
      /usage-bootstrap-authentication is not "true"/
    );
    const { 'usage-bootstrap-authentication': _, ...signingOnly } = good;
    assert.match(await rejection(secret({ ...signingOnly, 'usage-bootstrap-signing': 'true' })), /usage-bootstrap/);
    assert.match(await rejection(secret(good), 'abcdef.0123456789abcdee'), /token secret does not match/);
    assert.match(await rejection(secret({ ...good, 'token-id': 'zzzzzz' })), /token-id does not match/);
    assert.match(
      await rejection(secret({ ...good, 'auth-extra-groups': 'system:masters' })),
      /invalid group "system:masters"/
    );
    assert.match(await rejection(secret(good, { type: 'Opaque' })), /not of type bootstrap.kubernetes.io\/token/);
    assert.match(
      await rejection(secret(good, { metadata: { name: 'x', deletionTimestamp: '2026-01-01T00:00:00Z' } })),
      /being deleted/
    );
  });

  it('expiry: none never expires; a past or unparseable one has expired', () => {
    assert.equal(bootstrapTokenExpired(undefined), false);
    assert.equal(bootstrapTokenExpired('2999-01-01T00:00:00Z'), false);
    assert.equal(bootstrapTokenExpired('1999-01-01T00:00:00Z'), true);
    assert.equal(bootstrapTokenExpired('1700000000'), true);
  });
});
