// Authentication and authorization of requests to the kubelet (security.md §5.2–5.3, streaming.md §1.2), as
// upstream's delegating authenticator and authorizer: x509 client certificates verified against the client CA
// (by the TLS layer), bearer tokens through TokenReview, anonymous only when enabled; then every request becomes a
// SubjectAccessReview on the Node object (`nodes/<subresource>`, verb from the method). Both answers are cached
// with upstream's TTLs, so the API server sees one review per identity and attribute set, not one per request.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeClient } from '../../lib/kube-client.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface KubeletAuthOptions {
  nodeName: string;
  anonymousAuth: boolean;
  webhookAuthentication: boolean;
  authenticationCacheTTLMs: number;
  authorizationMode: 'Webhook' | 'AlwaysAllow';
  authorizedCacheTTLMs: number;
  unauthorizedCacheTTLMs: number;
}

/** A small TTL map; expired entries go when looked up, and the oldest beyond `max` when set. */
class TTLCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  constructor(private readonly max = 4096) {}

  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expires > Date.now()) return e.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: Date.now() + ttlMs });
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

// The documented mapping (HEAD → get included).
const verbs: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const isSubpath = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

/**
 * The subresources a path is authorized as, tried in order (KubeletFineGrainedAuthz, on since 1.33: `pods`,
 * `healthz`, `configz` first, `proxy` as the fallback).
 */
export function subresourcesFor(path: string): string[] {
  if (isSubpath(path, '/stats')) return ['stats'];
  if (isSubpath(path, '/metrics')) return ['metrics'];
  if (isSubpath(path, '/logs')) return ['log'];
  if (isSubpath(path, '/checkpoint')) return ['checkpoint'];
  if (isSubpath(path, '/pods') || isSubpath(path, '/runningpods')) return ['pods', 'proxy'];
  if (isSubpath(path, '/healthz')) return ['healthz', 'proxy'];
  if (isSubpath(path, '/configz')) return ['configz', 'proxy'];
  return ['proxy'];
}

/** The verb of an HTTP method; other methods map to "" as upstream (nothing grants them). */
export const verbFor = (method: string | undefined): string => verbs[method ?? ''] ?? '';

/** The token of `Authorization: Bearer …`, or of the WebSocket subprotocol `base64url.bearer.authorization.k8s.io.…`. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m) return m[1];
  const prefix = 'base64url.bearer.authorization.k8s.io.';
  for (const p of String(req.headers['sec-websocket-protocol'] ?? '').split(',')) {
    const v = p.trim();
    if (v.startsWith(prefix)) return Buffer.from(v.slice(prefix.length), 'base64url').toString('utf8') || undefined;
  }
  return undefined;
}

export type AuthzDecision = { allowed: true } | { allowed: false; code: 403 | 500; message: string };

export class KubeletAuth {
  readonly #tokens = new TTLCache<UserInfo | null>();
  readonly #reviews = new TTLCache<boolean>();

  constructor(
    private readonly o: KubeletAuthOptions,
    /** The kubelet's own API client: its identity asks for the reviews. */
    private readonly client: KubeClient
  ) {}

  /**
   * The requester, or undefined when unauthenticated (401). A client certificate counts only when the TLS layer
   * verified it against the client CA; an unverified one falls through to the token, as a union authenticator.
   * @throws Error when TokenReview cannot be reached (the request fails, nothing is cached)
   */
  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const subject = socket.getPeerCertificate()?.subject;
      const cn = subject?.CN;
      if (cn) {
        const o = subject.O;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        return { name: Array.isArray(cn) ? cn[0]! : cn, groups: [...groups, 'system:authenticated'] };
      }
    }
    const token = bearerToken(req);
    if (token !== undefined && this.o.webhookAuthentication) {
      const user = await this.#tokenReview(token);
      if (user) return { ...user, groups: [...new Set([...user.groups, 'system:authenticated'])] };
    }
    if (this.o.anonymousAuth) return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    return undefined;
  }

  async #tokenReview(token: string): Promise<UserInfo | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const review = await this.client.request<{
      status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: any } };
    }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const u = review.status?.user;
    const user =
      review.status?.authenticated && u?.username
        ? { name: u.username, uid: u.uid, groups: u.groups ?? [], extra: u.extra }
        : null;
    // Upstream caches success and failure alike for cacheTTL.
    this.#tokens.set(key, user, this.o.authenticationCacheTTLMs);
    return user ?? undefined;
  }

  /** Authorizes `user` for `method path`: allowed when any candidate subresource is. */
  async authorize(user: UserInfo, method: string | undefined, path: string): Promise<AuthzDecision> {
    const verb = verbFor(method);
    const subresources = subresourcesFor(path);
    const describe = `user=${user.name}, verb=${verb}, resource=nodes, subresource(s)=[${subresources.join(' ')}]`;
    if (this.o.authorizationMode === 'AlwaysAllow') return { allowed: true };
    try {
      for (const subresource of subresources)
        if (await this.#subjectAccessReview(user, verb, subresource)) return { allowed: true };
    } catch {
      return { allowed: false, code: 500, message: `Authorization error (${describe})` };
    }
    return { allowed: false, code: 403, message: `Forbidden (${describe})` };
  }

  async #subjectAccessReview(user: UserInfo, verb: string, subresource: string): Promise<boolean> {
    const spec = {
      resourceAttributes: { verb, version: 'v1', resource: 'nodes', subresource, name: this.o.nodeName },
      user: user.name,
      groups: user.groups,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    };
    const key = JSON.stringify(spec);
    const cached = this.#reviews.get(key);
    if (cached !== undefined) return cached;
    const review = await this.client.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec }
    );
    const allowed = review.status?.allowed === true;
    this.#reviews.set(key, allowed, allowed ? this.o.authorizedCacheTTLMs : this.o.unauthorizedCacheTTLMs);
    return allowed;
  }
}
