// Agent authentication by bound service-account token (upstream's pkg/server/server.go authenticateAgentViaToken,
// reference §4.1): a TokenReview on every Connect, no cache, audiences = [--authentication-audience]; the review
// must be authenticated, good for that audience, and name exactly `system:serviceaccount:<ns>:<sa>`.
import type { KubeClient } from '../../lib/kube-client.js';
import type { AgentIdentifiers } from './backends.js';

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
  /**
   * hubspoke's own hardening (upstream trusts whatever identifiers an authenticated agent claims, so one node's agent
   * could draw another node's traffic): the token must be bound to a Node, the agent's `host` identifiers must be
   * exactly that node's name, and its `ipv4`/`ipv6` identifiers among that Node's addresses. `cidr` and
   * `default-route` claims are refused.
   */
  requireNodeBinding?: boolean;
}

/** The claim a node-bound service-account token carries (TokenReview `user.extra`). */
const nodeNameExtra = 'authentication.kubernetes.io/node-name';

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; extra?: Record<string, string[]> };
}

/** An `authenticateAgent` for ProxyServerOptions: resolves when the token is the agent's, rejects with the reason. */
export function tokenReviewAuthenticator(
  o: TokenReviewAuthOptions
): (token: string, identifiers: AgentIdentifiers) => Promise<void> {
  const audience = o.audience ?? defaultAuthenticationAudience;
  const want = `system:serviceaccount:${o.agentNamespace}:${o.agentServiceAccount}`;
  return async (token, identifiers) => {
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
    if (o.requireNodeBinding) await checkNodeBinding(o.client, status.user?.extra?.[nodeNameExtra] ?? [], identifiers);
  };
}

/** The agent may claim only its own node: its name, and addresses that Node reports. */
async function checkNodeBinding(client: KubeClient, nodeNames: string[], ids: AgentIdentifiers): Promise<void> {
  const node = nodeNames.length === 1 ? nodeNames[0]! : undefined;
  if (!node) throw new Error('token is not bound to a node');
  const others = ids.host.filter((h) => h !== node);
  if (others.length || ids.host.length === 0)
    throw new Error(`agent of node ${node} claims host ${JSON.stringify(ids.host.join(','))}`);
  if (ids.cidr.length || ids.defaultRoute) throw new Error(`agent of node ${node} claims cidr or default-route`);
  const claimed = [...ids.ipv4, ...ids.ipv6];
  if (claimed.length === 0) return;
  let addresses: string[];
  try {
    const n = await client.get<{ status?: { addresses?: { address: string }[] } }>(
      `/api/v1/nodes/${encodeURIComponent(node)}`
    );
    addresses = (n.status?.addresses ?? []).map((a) => a.address);
  } catch (err) {
    throw new Error(`node ${node}: ${(err as Error).message}`);
  }
  const foreign = claimed.filter((a) => !addresses.includes(a));
  if (foreign.length)
    throw new Error(`agent of node ${node} claims addresses ${foreign.join(',')} the Node does not report`);
}
