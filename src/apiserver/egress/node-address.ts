// Which of a Node's addresses reaches it (--kubelet-preferred-address-types): the kubelet proxy and the SSH dialer
// both pick the node's address this way, so it lives with the dialers.
import type { Node } from 'kubernetes-types/core/v1.js';
import { newBadRequest } from '../../api/errors.js';

/** kubeadm's order, not kube-apiserver's Hostname-first one: a host name may resolve to an address the node never reported. */
export const defaultPreferredAddressTypes = ['InternalIP', 'ExternalIP', 'Hostname'];
export const defaultKubeletPort = 10250;

/** The node's address to dial: the first of `status.addresses` in preference order, and its kubelet port. */
export function nodeAddress(node: Node, preferredTypes: readonly string[]): { host: string; port: number } {
  const addresses = node.status?.addresses ?? [];
  for (const type of preferredTypes) {
    const found = addresses.find((a) => a.type === type && a.address);
    if (found) {
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      return { host: found.address, port: port && port > 0 ? port : defaultKubeletPort };
    }
  }
  throw newBadRequest(
    `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`
  );
}
