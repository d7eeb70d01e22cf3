// Bound service-account tokens (k8s pkg/serviceaccount/{jwt,claims}.go): JWTs the TokenRequest API issues and the
// API server accepts as `system:serviceaccount:<ns>:<name>` while the service account, and the pod, secret or
// node the token is bound to, still exist with the same uid.
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { newUnauthorized } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { UserInfo } from '../authz/interface.js';
import { serviceAccountUsername } from '../authz/rbac.js';
import type { TokenAuthenticator } from './interface.js';
import type { ServiceAccountKeys } from './serviceaccount-keys.js';

export const serviceAccountUsernamePrefix = 'system:serviceaccount:';
export const serviceAccountsGroup = 'system:serviceaccounts';
export const defaultServiceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

/** `system:serviceaccounts` and `system:serviceaccounts:<ns>`: the groups of every service account. */
export function serviceAccountGroups(namespace: string): string[] {
  return [serviceAccountsGroup, `${serviceAccountsGroup}:${namespace}`];
}

/** `system:serviceaccount:<ns>:<name>` → [ns, name], or undefined for any other user name. */
export function splitServiceAccountUsername(username: string): [string, string] | undefined {
  if (!username.startsWith(serviceAccountUsernamePrefix)) return undefined;
  const parts = username.slice(serviceAccountUsernamePrefix.length).split(':');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

interface Ref {
  name: string;
  uid: string;
}

/** The private `kubernetes.io` claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  /** Set on tokens whose lifetime was extended: when a well-behaved client should have refreshed. */
  warnafter?: number;
}

export interface TokenClaimsInput {
  serviceAccount: KubeObject;
  audiences: readonly string[];
  expirationSeconds: number;
  pod?: KubeObject;
  secret?: KubeObject;
  node?: { name: string; uid?: string };
  /** When set, `exp` is this far out and `warnafter` carries the requested expiry (extend-token-expiration). */
  extendedSeconds?: number;
}

const refOf = (o: KubeObject): Ref => ({ name: o.metadata!.name!, uid: o.metadata!.uid ?? '' });

/** Signs a bound token; `exp`, `iat`, `nbf` in seconds, `jti` a random UUID, as upstream 1.33. */
export async function issueServiceAccountToken(
  keys: ServiceAccountKeys,
  issuer: string,
  c: TokenClaimsInput,
  now = new Date()
): Promise<{ token: string; expirationTimestamp: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  const claim: KubernetesClaim = {
    namespace: c.serviceAccount.metadata!.namespace!,
    serviceaccount: refOf(c.serviceAccount),
  };
  if (c.pod) claim.pod = refOf(c.pod);
  if (c.secret) claim.secret = refOf(c.secret);
  if (c.node) claim.node = { name: c.node.name, uid: c.node.uid ?? '' };
  const exp = iat + (c.extendedSeconds ?? c.expirationSeconds);
  if (c.extendedSeconds) claim.warnafter = iat + c.expirationSeconds;
  const token = await new SignJWT({ 'kubernetes.io': claim })
    .setProtectedHeader({ alg: keys.signing.alg, kid: keys.signing.kid })
    .setIssuer(issuer)
    .setSubject(serviceAccountUsername(claim.namespace, claim.serviceaccount.name))
    .setAudience([...c.audiences])
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(keys.signing.key);
  return { token, expirationTimestamp: new Date((iat + c.expirationSeconds) * 1000) };
}

/** Reads the objects a token is bound to; `undefined` when gone. Backed by the API server's registry. */
export interface ServiceAccountTokenGetter {
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
  getSecret(namespace: string, name: string): Promise<KubeObject | undefined>;
  getNode(name: string): Promise<KubeObject | undefined>;
}

export interface ServiceAccountAuthenticatorConfig {
  keys: ServiceAccountKeys;
  /** --service-account-issuer values; the first one issues, all are accepted. */
  issuers: readonly string[];
  getter: ServiceAccountTokenGetter;
}

/** The leeway upstream allows on exp and nbf for clock skew between API servers. */
const leewaySeconds = 60;

const q = (s: unknown): string => JSON.stringify(s);

/**
 * Validates a bound token: header and issuer → signature with the key its kid names → exp/nbf → audience →
 * the service account and bound objects still exist with the uids in the token. A token that is not a JWT is not
 * ours (null); every other failure throws saying which check failed.
 */
export function serviceAccountTokenAuthenticator(c: ServiceAccountAuthenticatorConfig): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      let payload: JWTPayload;
      let kid: string | undefined;
      try {
        payload = decodeJwt(token);
        kid = decodeProtectedHeader(token).kid;
      } catch {
        return null;
      }
      const fail = (why: string): never => {
        throw newUnauthorized(`service account token: ${why}`);
      };
      if (!c.issuers.includes(String(payload.iss)))
        fail(`wrong issuer ${q(payload.iss)}: this server accepts ${q(c.issuers)}`);
      const candidates = kid ? c.keys.verification.filter((k) => k.kid === kid) : c.keys.verification;
      if (candidates.length === 0) fail(`unknown kid ${q(kid)}: no verification key has that id`);
      let verified: JWTPayload | undefined;
      for (const k of candidates) {
        try {
          verified = (await jwtVerify(token, k.key, { algorithms: [k.alg], clockTolerance: leewaySeconds })).payload;
          break;
        } catch (err) {
          if (err instanceof joseErrors.JWTExpired)
            fail(`expired at ${new Date(Number(payload.exp) * 1000).toISOString()}`);
          if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf')
            fail(`not valid yet: nbf is ${new Date(Number(payload.nbf) * 1000).toISOString()}`);
          if (err instanceof joseErrors.JWTClaimValidationFailed) fail(`claim ${err.claim}: ${err.reason}`);
          // A signature or algorithm mismatch: the next key with this kid may still verify it.
        }
      }
      if (!verified) return fail('invalid signature: no verification key verifies it');
      if (typeof verified.exp !== 'number') fail('no exp claim: bound tokens must expire');
      const tokenAudiences = Array.isArray(verified.aud) ? verified.aud : verified.aud ? [verified.aud] : [];
      const matched = audiences.filter((a) => tokenAudiences.includes(a));
      if (matched.length === 0)
        fail(
          `wrong audience: token audiences ${q(tokenAudiences)} is invalid for the target audiences ${q(audiences)}`
        );
      const claim = verified['kubernetes.io'] as KubernetesClaim | undefined;
      if (!claim?.namespace || !claim.serviceaccount?.name) return fail('no kubernetes.io claim');
      const ns = claim.namespace;
      if (verified.sub !== serviceAccountUsername(ns, claim.serviceaccount.name))
        fail(`sub ${q(verified.sub)} does not name the service account in the kubernetes.io claim`);
      // Each object the token names must still exist, not be terminating, and be the same object (uid).
      const live = async (what: string, key: string, ref: Ref, get: () => Promise<KubeObject | undefined>) => {
        const o = await get();
        if (!o || o.metadata?.deletionTimestamp) fail(`${what} ${q(key)} has been deleted`);
        if (o!.metadata?.uid !== ref.uid)
          fail(`${what} ${q(key)}: uid ${q(o!.metadata?.uid)} does not match the token's ${q(ref.uid)}`);
      };
      const sa = claim.serviceaccount;
      const { pod, secret, node } = claim;
      await live('service account', `${ns}/${sa.name}`, sa, () => c.getter.getServiceAccount(ns, sa.name));
      if (secret) await live('bound secret', `${ns}/${secret.name}`, secret, () => c.getter.getSecret(ns, secret.name));
      if (pod) await live('bound pod', `${ns}/${pod.name}`, pod, () => c.getter.getPod(ns, pod.name));
      // A pod-bound token names its pod's node for information; only a node-bound token depends on the node.
      if (node && !pod && !secret) await live('bound node', node.name, node, () => c.getter.getNode(node.name));
      const user: UserInfo = {
        name: serviceAccountUsername(ns, sa.name),
        uid: sa.uid,
        groups: serviceAccountGroups(ns),
      };
      const extra: Record<string, string[]> = {};
      if (pod) {
        extra['authentication.kubernetes.io/pod-name'] = [pod.name];
        extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
      }
      if (node) {
        extra['authentication.kubernetes.io/node-name'] = [node.name];
        if (node.uid) extra['authentication.kubernetes.io/node-uid'] = [node.uid];
      }
      if (typeof verified.jti === 'string')
        extra['authentication.kubernetes.io/credential-id'] = [`JTI=${verified.jti}`];
      if (Object.keys(extra).length) user.extra = extra;
      return { user, audiences: matched };
    },
  };
}
