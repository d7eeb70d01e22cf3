// The identities a node's own daemons use besides the kubelet's, the way kubeadm sets them up: the konnectivity
// agent and kube-proxy are service accounts in kube-system (kube-proxy's bound to system:node-proxier, as kubeadm's
// `kubeadm:node-proxier` binding does). A node gets their tokens with its own credentials (TokenRequest), bound to
// its Node object: RBAC lets system:nodes request exactly these two tokens, NodeRestriction lets a node bind them
// only to itself, and the API server stops honouring them when the Node is deleted. Nothing long-lived is copied
// onto the node by hand.
import { isAlreadyExists } from '../api/errors.js';
import { nodeDaemonNamespace, nodeDaemonServiceAccounts } from '../apiserver/admission/node-restriction.js';
import type { Kubelet } from '../kubelet/kubelet.js';
import type { KubeClient } from '../lib/kube-client.js';

export { nodeDaemonNamespace };
export const [konnectivityAgentServiceAccount, kubeProxyServiceAccount] = nodeDaemonServiceAccounts;

const tokenRole = 'system:node-daemon-tokens';
const rbac = 'rbac.authorization.k8s.io';

/** The service accounts and RBAC above; run by every control plane at start (already there is fine). */
export async function ensureNodeIdentities(client: KubeClient): Promise<void> {
  const ns = nodeDaemonNamespace;
  const accounts = [...nodeDaemonServiceAccounts];
  const objects: [string, object][] = [
    ...accounts.map((name): [string, object] => [
      `/api/v1/namespaces/${ns}/serviceaccounts`,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } },
    ]),
    [
      `/apis/${rbac}/v1/namespaces/${ns}/roles`,
      {
        apiVersion: `${rbac}/v1`,
        kind: 'Role',
        metadata: { name: tokenRole, namespace: ns },
        rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: accounts, verbs: ['create'] }],
      },
    ],
    [
      `/apis/${rbac}/v1/namespaces/${ns}/rolebindings`,
      {
        apiVersion: `${rbac}/v1`,
        kind: 'RoleBinding',
        metadata: { name: tokenRole, namespace: ns },
        roleRef: { apiGroup: rbac, kind: 'Role', name: tokenRole },
        subjects: [{ apiGroup: rbac, kind: 'Group', name: 'system:nodes' }],
      },
    ],
    [
      `/apis/${rbac}/v1/clusterrolebindings`,
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: 'hubspoke:node-proxier' },
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: kubeProxyServiceAccount, namespace: ns }],
      },
    ],
  ];
  for (const [path, body] of objects) {
    try {
      await client.request('POST', path, body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/**
 * A token of `serviceAccount`, bound to this node's Node, requested with the node's credentials and renewed at
 * 80 % of its life. `audiences` empty means the API server's own.
 */
export function nodeBoundToken(
  kubelet: Kubelet,
  serviceAccount: string,
  audiences: string[] = []
): () => Promise<string> {
  const client: KubeClient = kubelet.client;
  let cached: { token: string; renewAt: number } | undefined;
  const expirationSeconds = 3600;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const name = kubelet.options.nodeName;
    const review = await client.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${nodeDaemonNamespace}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          ...(audiences.length ? { audiences } : {}),
          expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Node', name, uid: kubelet.nodeStatus.node?.metadata?.uid },
        },
      }
    );
    cached = { token: review.status.token, renewAt: Date.now() + expirationSeconds * 800 };
    return cached.token;
  };
}
