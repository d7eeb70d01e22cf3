// Bootstrap tokens (k8s plugin/pkg/auth/authenticator/token/bootstrap): `<id>.<secret>` backed by the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A node joins with one, as
// system:bootstrap:<id> in system:bootstrappers (plus the Secret's auth-extra-groups), just long enough to ask
// for its certificate.
import { timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../../api/resource.js';
import { newUnauthorized } from '../../api/errors.js';
import { audienceAgnostic, type TokenAuthenticator } from './interface.js';

export const bootstrapTokenSecretType = 'bootstrap.kubernetes.io/token';
export const bootstrapTokenSecretPrefix = 'bootstrap-token-';
export const bootstrapTokenNamespace = 'kube-system';
export const bootstrapTokenRegexp = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const bootstrapUserPrefix = 'system:bootstrap:';
export const bootstrappersGroup = 'system:bootstrappers';
export const bootstrapExtraGroupRegexp = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/** Reads a Secret by name in kube-system; `undefined` when there is none. */
export type SecretGetter = (namespace: string, name: string) => Promise<KubeObject | undefined>;

function data(secret: KubeObject, key: string): string | undefined {
  const v = (secret.data as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether an RFC 3339 `expiration` has passed; one that does not parse counts as passed, as upstream. */
export function bootstrapTokenExpired(expiration: string | undefined, now = Date.now()): boolean {
  if (expiration === undefined) return false;
  const t = Date.parse(expiration);
  return !/^\d{4}-\d{2}-\d{2}T/.test(expiration) || Number.isNaN(t) || t <= now;
}

/** Checks in upstream's order; the reason for a refusal goes into the thrown error (the server's log). */
export function bootstrapTokenAuthenticator(getSecret: SecretGetter): TokenAuthenticator {
  return audienceAgnostic(async (token) => {
    const m = bootstrapTokenRegexp.exec(token);
    if (!m) return null;
    const [, id, secretValue] = m as unknown as [string, string, string];
    const name = bootstrapTokenSecretPrefix + id;
    const secret = await getSecret(bootstrapTokenNamespace, name);
    if (!secret) return null; // not one of ours
    const fail = (why: string): never => {
      throw newUnauthorized(`bootstrap token ${bootstrapTokenNamespace}/${name}: ${why}`);
    };
    if (secret.metadata?.deletionTimestamp) fail('the secret is being deleted');
    if (secret.type !== bootstrapTokenSecretType || !secret.data)
      fail(`the secret is not of type ${bootstrapTokenSecretType}`);
    if (!equal(data(secret, 'token-secret') ?? '', secretValue)) fail('the token secret does not match');
    if (data(secret, 'token-id') !== id) fail('the token-id does not match the secret name');
    if (bootstrapTokenExpired(data(secret, 'expiration'))) fail(`expired at ${data(secret, 'expiration')}`);
    if (data(secret, 'usage-bootstrap-authentication') !== 'true')
      fail('usage-bootstrap-authentication is not "true": the token may not be used to authenticate');
    const groups = new Set([bootstrappersGroup]);
    const extra = data(secret, 'auth-extra-groups');
    for (const g of extra ? extra.split(',') : []) {
      const group = g.trim();
      if (!bootstrapExtraGroupRegexp.test(group)) fail(`auth-extra-groups: invalid group "${group}"`);
      groups.add(group);
    }
    return { name: bootstrapUserPrefix + id, groups: [...groups].sort() };
  });
}
