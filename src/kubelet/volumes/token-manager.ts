// Bound service-account tokens for projected volumes (upstream pkg/kubelet/token): one TokenRequest per pod,
// service account, audience and lifetime, bound to the pod; refreshed once 80 % of its lifetime has passed or
// it is 24 h old, whichever comes first.
import type { KubeClient } from '../../lib/kube-client.js';

interface CachedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

const maxTokenAgeMs = 24 * 3600 * 1000;

export interface TokenSpec {
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUID: string;
  audience?: string;
  expirationSeconds: number;
}

export class TokenManager {
  readonly #cache = new Map<string, CachedToken>();

  constructor(private readonly client: KubeClient) {}

  static refreshAt(t: CachedToken): number {
    return Math.min(t.expiresAt - 0.2 * (t.expiresAt - t.issuedAt), t.issuedAt + maxTokenAgeMs);
  }

  async get(spec: TokenSpec): Promise<{ token: string; refreshAt: number }> {
    const key = JSON.stringify([spec.podUID, spec.serviceAccount, spec.audience ?? '', spec.expirationSeconds]);
    let t = this.#cache.get(key);
    if (!t || Date.now() >= TokenManager.refreshAt(t)) {
      const issuedAt = Date.now();
      const res = await this.client.request<{ status: { token: string; expirationTimestamp: string } }>(
        'POST',
        `/api/v1/namespaces/${spec.namespace}/serviceaccounts/${spec.serviceAccount}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            ...(spec.audience ? { audiences: [spec.audience] } : {}),
            expirationSeconds: spec.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: spec.podName, uid: spec.podUID },
          },
        }
      );
      t = { token: res.status.token, issuedAt, expiresAt: Date.parse(res.status.expirationTimestamp) };
      this.#cache.set(key, t);
    }
    return { token: t.token, refreshAt: TokenManager.refreshAt(t) };
  }

  /** Forgets a deleted pod's tokens. */
  forget(podUID: string): void {
    for (const k of this.#cache.keys()) if ((JSON.parse(k) as string[])[0] === podUID) this.#cache.delete(k);
  }
}
