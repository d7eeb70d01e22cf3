// The node's heartbeat (upstream pkg/kubelet/nodelease, component-helpers' lease controller): Lease
// kube-node-lease/<node>, holderIdentity the node, owned by the Node object, renewTime renewed every quarter of
// leaseDurationSeconds (10 s of the default 40 s). A failed renewal is retried with back-off from 200 ms up to
// 7 s, as upstream does, so a lost heartbeat costs at most one interval.
import { isAlreadyExists, isConflict, isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import type { Logger } from '../../lib/log.js';

/** metav1.MicroTime: RFC 3339 with microseconds. */
export const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const leaseNamespace = 'kube-node-lease';

export class NodeLease {
  #timer?: NodeJS.Timeout;
  #lease?: any;
  #stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly leaseDurationSeconds: number,
    private readonly log: Logger,
    private readonly nodeUID: () => string | undefined
  ) {}

  get renewIntervalMs(): number {
    return this.leaseDurationSeconds * 250;
  }

  start(): void {
    void this.#tick(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases/${this.nodeName}`;
  }

  #desired(base: any): any {
    const uid = this.nodeUID();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      ...base,
      metadata: {
        ...base?.metadata,
        name: this.nodeName,
        namespace: leaseNamespace,
        ...(uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid }] } : {}),
      },
      spec: {
        ...base?.spec,
        holderIdentity: this.nodeName,
        leaseDurationSeconds: this.leaseDurationSeconds,
        renewTime: microTime(),
      },
    };
  }

  /** Renews (or creates) the lease once. */
  async renew(): Promise<void> {
    if (!this.#lease) {
      try {
        this.#lease = await this.client.get(this.#path());
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          this.#lease = await this.client.request(
            'POST',
            `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases`,
            this.#desired(undefined)
          );
          return;
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          this.#lease = await this.client.get(this.#path());
        }
      }
    }
    try {
      this.#lease = await this.client.request('PUT', this.#path(), this.#desired(this.#lease));
    } catch (err) {
      this.#lease = undefined; // a conflict or a deleted lease: start from the server's copy
      if (!isConflict(err) && !isNotFound(err)) throw err;
      await this.renew();
    }
  }

  async #tick(failures: number): Promise<void> {
    if (this.#stopped) return;
    let next = this.renewIntervalMs;
    try {
      await this.renew();
      failures = 0;
    } catch (err) {
      failures++;
      next = Math.min(200 * 2 ** (failures - 1), 7000);
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err), retryInMs: next },
        'failed to renew the node lease'
      );
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(failures), next);
  }
}
