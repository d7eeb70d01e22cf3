// The SSH egress dialer (upstream's SSH tunneler, removed in 1.22 in favour of Konnectivity; kept here for networks
// where only SSH reaches the nodes): one SSH connection per Node to the node's sshd, opened when the Node appears
// and closed when it goes; every dial to one of a node's addresses is a `direct-tcpip` channel on that node's
// connection. A dial to an address no Node has (a pod or service IP) takes any tunnel that is up, as upstream did.
// Host keys are pinned: the fingerprint the node's kubelet published in `hubspoke.io/ssh-host-key` (which only the
// node itself may set, see admission/node-restriction.ts), or the keys --ssh-known-hosts lists for it, which win.
// What the caller puts inside the channel (the kubelet's TLS) is verified by the caller as on any other path.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Duplex } from 'node:stream';
import { newServiceUnavailable } from '../../../api/errors.js';
import type { Logger } from '../../../lib/log.js';
import { sshHostKeyAnnotation, sshPortAnnotation } from '../../../pki/index.js';
import { splitHostPort, type DialOptions, type EgressDialer } from '../dialer.js';
import { nodeAddress } from '../node-address.js';
import { knownHostsName, type KnownHosts } from './known-hosts.js';
import { SSHTunnel, type TunnelSettings, type TunnelTarget } from './tunnel.js';

export interface SSHDialerOptions extends Omit<TunnelSettings, 'log'> {
  /** The SSH port of a node that does not publish `hubspoke.io/ssh-port` (--ssh-port). */
  port: number;
  /** --ssh-known-hosts; its keys for a node replace the node's own pin. */
  knownHosts?: KnownHosts;
  /** Which of a Node's addresses its sshd is reached at (--kubelet-preferred-address-types). */
  preferredAddressTypes: readonly string[];
  log: Logger;
}

export const sshDeprecationMessage =
  'SSH tunnels (--ssh-user/--ssh-keyfile) are deprecated, as upstream deprecated and then removed them: use Konnectivity (--egress-selector-config-file with transport uds or tcp, and a konnectivity agent on each node) instead';

export class SSHDialer implements EgressDialer {
  readonly name = 'ssh';
  readonly #tunnels = new Map<string, SSHTunnel>();
  /** Address (any of status.addresses) → node name. */
  readonly #owners = new Map<string, string>();

  constructor(private readonly o: SSHDialerOptions) {}

  /** A Node was added or changed: (re)connect its tunnel when its address, port or pin changed. */
  upsertNode(node: Node): void {
    const name = node.metadata?.name;
    if (!name) return;
    let target: TunnelTarget;
    try {
      target = this.#target(name, node);
    } catch (err) {
      // No usable address yet (a Node registered before its first status): wait for the next change.
      this.o.log.debug({ node: name, err: (err as Error).message }, 'SSH tunnel: node has no address yet');
      this.deleteNode(name);
      return;
    }
    for (const [addr, owner] of this.#owners) if (owner === name) this.#owners.delete(addr);
    for (const a of node.status?.addresses ?? []) if (a.address) this.#owners.set(a.address, name);
    const tunnel = this.#tunnels.get(name);
    if (tunnel) tunnel.update(target);
    else this.#tunnels.set(name, new SSHTunnel(target, { ...this.o, log: this.o.log }));
  }

  deleteNode(name: string): void {
    for (const [addr, owner] of this.#owners) if (owner === name) this.#owners.delete(addr);
    this.#tunnels.get(name)?.close();
    this.#tunnels.delete(name);
  }

  /** After a full list: nodes missing from it are gone. */
  replaceNodes(nodes: readonly Node[]): void {
    const names = new Set(nodes.map((n) => n.metadata?.name));
    for (const name of [...this.#tunnels.keys()]) if (!names.has(name)) this.deleteNode(name);
    for (const n of nodes) this.upsertNode(n);
  }

  /** Names of the nodes whose tunnel is connected. */
  connected(): string[] {
    return [...this.#tunnels].filter(([, t]) => t.up).map(([n]) => n);
  }

  dial(_network: 'tcp', address: string, options: DialOptions = {}): Promise<Duplex> {
    const { host, port } = splitHostPort(address);
    const owner = this.#owners.get(host);
    const tunnel = owner !== undefined ? this.#tunnels.get(owner) : [...this.#tunnels.values()].find((t) => t.up);
    if (!tunnel)
      return Promise.reject(
        newServiceUnavailable(
          owner !== undefined || this.#tunnels.size === 0
            ? `ssh: no SSH tunnel for ${address}`
            : `ssh: no node has address ${host} and no SSH tunnel is up`
        )
      );
    return tunnel.dial(host, port, options);
  }

  close(): void {
    for (const name of [...this.#tunnels.keys()]) this.deleteNode(name);
  }

  #target(name: string, node: Node): TunnelTarget {
    const { host } = nodeAddress(node, this.o.preferredAddressTypes);
    const annotations = node.metadata?.annotations ?? {};
    const published = Number(annotations[sshPortAnnotation]);
    const port = Number.isInteger(published) && published > 0 && published < 65536 ? published : this.o.port;
    const known = this.o.knownHosts?.fingerprints([knownHostsName(host, port), name]);
    if (known?.size) return { node: name, host, port, pins: known, pinSource: '--ssh-known-hosts' };
    const pin = annotations[sshHostKeyAnnotation]?.trim();
    return {
      node: name,
      host,
      port,
      pins: new Set(pin ? [pin] : []),
      pinSource: pin
        ? `annotation ${sshHostKeyAnnotation}`
        : `no annotation ${sshHostKeyAnnotation}${this.o.knownHosts ? ' and no --ssh-known-hosts entry' : ''}`,
    };
  }
}
