// Bound service-account tokens: issued claims, and every check that rejects a token.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import type { KubeObject } from '../../api/resource.js';
import { keyID, loadServiceAccountKeys, type ServiceAccountKeys } from './serviceaccount-keys.js';
import {
  issueServiceAccountToken,
  serviceAccountTokenAuthenticator,
  type ServiceAccountTokenGetter,
} from './serviceaccount-token.js';

const issuer = 'https://kubernetes.default.svc.cluster.local';
const audiences = [issuer];

describe('service-account tokens', () => {
  let dir: string;
  let keys: ServiceAccountKeys;
  const objects = new Map<string, KubeObject>();
  const get = (kind: string, ns: string, name: string): Promise<KubeObject | undefined> =>
    Promise.resolve(objects.get(`${kind}/${ns}/${name}`));
  const getter: ServiceAccountTokenGetter = {
    getServiceAccount: (ns, n) => get('sa', ns, n),
    getPod: (ns, n) => get('pod', ns, n),
    getSecret: (ns, n) => get('secret', ns, n),
    getNode: (n) => get('node', '', n),
  };
  const sa = { metadata: { name: 'builder', namespace: 'ci', uid: 'sa-uid' } };
  const pod = { metadata: { name: 'p1', namespace: 'ci', uid: 'pod-uid' } };
  const authn = () => serviceAccountTokenAuthenticator({ keys, issuers: [issuer], getter });
  const rejection = async (token: string, aud = audiences): Promise<string> => {
    try {
      await authn().authenticateToken(token, aud);
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('the token was accepted');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sa-keys-'));
    keys = await loadServiceAccountKeys({ keyFiles: [], pkiDir: dir });
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const reset = (): void => {
    objects.clear();
    objects.set('sa/ci/builder', sa);
    objects.set('pod/ci/p1', pod);
    objects.set('node//n1', { metadata: { name: 'n1', uid: 'node-uid' } });
  };

  it('issues upstream claims and authenticates a pod-bound token with its extras', async () => {
    reset();
    const { token, expirationTimestamp } = await issueServiceAccountToken(keys, issuer, {
      serviceAccount: sa,
      audiences,
      expirationSeconds: 600,
      pod,
      node: { name: 'n1', uid: 'node-uid' },
    });
    const header = decodeProtectedHeader(token);
    assert.deepEqual(header, { alg: 'RS256', kid: keyID(keys.verification[0]!.key) });
    const claims = decodeJwt(token);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.sub, 'system:serviceaccount:ci:builder');
    assert.deepEqual(claims.aud, audiences);
    assert.equal(claims.nbf, claims.iat);
    assert.equal(claims.exp, claims.iat! + 600);
    assert.equal(expirationTimestamp.getTime(), claims.exp * 1000);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(claims['kubernetes.io'], {
      namespace: 'ci',
      serviceaccount: { name: 'builder', uid: 'sa-uid' },
      pod: { name: 'p1', uid: 'pod-uid' },
      node: { name: 'n1', uid: 'node-uid' },
    });
    const r = await authn().authenticateToken(token, ['other', issuer]);
    assert.deepEqual(r, {
      audiences: [issuer],
      user: {
        name: 'system:serviceaccount:ci:builder',
        uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'],
        extra: {
          'authentication.kubernetes.io/pod-name': ['p1'],
          'authentication.kubernetes.io/pod-uid': ['pod-uid'],
          'authentication.kubernetes.io/node-name': ['n1'],
          'authentication.kubernetes.io/node-uid': ['node-uid'],
          'authentication.kubernetes.io/credential-id': [`JTI=${String(claims.jti)}`],
        },
      },
    });
  });

  it('is not the authenticator of a token that is not a JWT', async () => {
    assert.equal(await authn().authenticateToken('abcdef.0123456789abcdef', audiences), null);
  });

  const issue = async (more: Partial<Parameters<typeof issueServiceAccountToken>[2]> = {}, now?: Date) =>
    (
      await issueServiceAccountToken(
        keys,
        issuer,
        { serviceAccount: sa, audiences, expirationSeconds: 600, ...more },
        now
      )
    ).token;

  it('rejects a forged signature', async () => {
    reset();
    const [h, p] = (await issue()).split('.');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = await new SignJWT(decodeJwt(`${h}.${p}.x`))
      .setProtectedHeader(decodeProtectedHeader(`${h}.${p}.x`) as { alg: string; kid: string })
      .sign(other);
    assert.match(await rejection(forged), /invalid signature/);
  });

  it('rejects an expired token and one not valid yet, beyond the 60 s leeway', async () => {
    reset();
    assert.match(await rejection(await issue({}, new Date(Date.now() - 700_000))), /expired at/);
    assert.match(await rejection(await issue({}, new Date(Date.now() + 120_000))), /not valid yet: nbf/);
    // Within the leeway it is fine: clocks of API servers differ a little.
    assert.ok(await authn().authenticateToken(await issue({}, new Date(Date.now() + 30_000)), audiences));
  });

  it('rejects a wrong audience and a wrong issuer', async () => {
    reset();
    assert.match(await rejection(await issue({ audiences: ['vault'] })), /wrong audience: token audiences \["vault"\]/);
    const foreign = (
      await issueServiceAccountToken(keys, 'https://elsewhere', {
        serviceAccount: sa,
        audiences,
        expirationSeconds: 600,
      })
    ).token;
    assert.match(await rejection(foreign), /wrong issuer "https:\/\/elsewhere"/);
  });

  it('rejects an unknown kid', async () => {
    reset();
    const payload = decodeJwt(await issue());
    const token = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'nope' }).sign(keys.signing.key);
    assert.match(await rejection(token), /unknown kid "nope"/);
  });

  it('rejects a token whose service account, bound pod or secret is gone or replaced', async () => {
    reset();
    const podToken = await issue({ pod });
    objects.delete('pod/ci/p1');
    assert.match(await rejection(podToken), /bound pod "ci\/p1" has been deleted/);
    objects.set('pod/ci/p1', { metadata: { ...pod.metadata, uid: 'new-uid' } });
    assert.match(await rejection(podToken), /bound pod "ci\/p1": uid "new-uid" does not match the token's "pod-uid"/);
    objects.set('pod/ci/p1', { metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    assert.match(await rejection(podToken), /has been deleted/);
    reset();
    const secret = { metadata: { name: 's1', namespace: 'ci', uid: 'secret-uid' } };
    objects.set('secret/ci/s1', secret);
    const secretToken = await issue({ secret });
    assert.ok(await authn().authenticateToken(secretToken, audiences));
    objects.delete('secret/ci/s1');
    assert.match(await rejection(secretToken), /bound secret "ci\/s1" has been deleted/);
    reset();
    objects.set('sa/ci/builder', { metadata: { ...sa.metadata, uid: 'other' } });
    assert.match(await rejection(await issue()), /service account "ci\/builder": uid "other"/);
  });
});
