// Agent authentication by bound service-account token (upstream's pkg/server/server.go authenticateAgentViaToken,
// reference §4.1): a TokenReview on every Connect, no cache, audiences = [--authentication-audience]; the review
// must be authenticated, good for that audience, and name exactly `system:serviceaccount:<ns>:<sa>`.
import type { KubeClient } from '../../lib/kube-client.js';

export const defaultAuthenticationAudience = 'system:konnectivity-server';

export interface TokenReviewAuthOptions {
  /** The server's own API client; its identity needs `create tokenreviews` (system:auth-delegator). */
  client: KubeClient;
  /** --agent-namespace */
  agentNamespace: string;
  /** --agent-service-account */
  agentServiceAccount: string;
  /** --authentication-audience @default system:konnectivity-server */
  audience?: string;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string };
}

/** An `authenticateAgent` for ProxyServerOptions: resolves when the token is the agent's, rejects with the reason. */
export function tokenReviewAuthenticator(o: TokenReviewAuthOptions): (token: string) => Promise<void> {
  const audience = o.audience ?? defaultAuthenticationAudience;
  const want = `system:serviceaccount:${o.agentNamespace}:${o.agentServiceAccount}`;
  return async (token) => {
    if (token === '') throw new Error('empty bearer token');
    let status: TokenReviewStatus | undefined;
    try {
      const review = await o.client.request<{ status?: TokenReviewStatus }>(
        'POST',
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } }
      );
      status = review.status;
    } catch (err) {
      throw new Error(`failed to authenticate request: ${(err as Error).message}`);
    }
    if (status?.error) throw new Error(`lookup failed: ${status.error}`);
    if (!status?.authenticated) throw new Error('token is not authenticated');
    // An API server that ignores spec.audiences answers with its own; upstream trusts the review, we check it.
    if (status.audiences && !status.audiences.includes(audience))
      throw new Error(`token is not good for audience ${JSON.stringify(audience)}`);
    const username = status.user?.username ?? '';
    const parts = username.split(':');
    if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount')
      throw new Error(`user ${JSON.stringify(username)} is not a service account`);
    if (username !== want) throw new Error(`user ${JSON.stringify(username)} is not ${JSON.stringify(want)}`);
  };
}
