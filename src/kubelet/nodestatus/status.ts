// Node registration and status (upstream kubelet_node_status.go): create the Node (or adopt an existing one),
// then check its status every nodeStatusUpdateFrequency and write nodes/status when something changed or
// nodeStatusReportFrequency has passed; the Lease carries liveness in between.
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import type { Logger } from '../../lib/log.js';
import { evictionMemoryBytes, nodeConditions } from './conditions.js';
import { NodeLease } from './lease.js';
import { machineStats, nodeArch, nodeInfo } from './machine.js';

export interface NodeStatusOptions {
  nodeName: string;
  nodeIP: string;
  hostname: string;
  rootDir: string;
  labels: Record<string, string>;
  /** Set at registration and on every start (e.g. the SSH host key fingerprint, ssh.ts). */
  annotations: Record<string, string>;
  registerNode: boolean;
  maxPods: number;
  port: number;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
}

/** A condition someone else on the node reports (the konnectivity agent's TunnelReady); times are stamped here. */
export type ConditionProvider = () => Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

const ki = (bytes: number): string => `${Math.floor(bytes / 1024)}Ki`;

/** JSON with sorted keys: the server may return fields in another order. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export class NodeStatusManager {
  #node?: Node;
  #lastReported = 0;
  #timer?: NodeJS.Timeout;
  readonly lease: NodeLease;
  readonly #info = nodeInfo();
  readonly #providers: ConditionProvider[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly opts: NodeStatusOptions,
    private readonly log: Logger
  ) {
    this.lease = new NodeLease(
      client,
      opts.nodeName,
      opts.nodeLeaseDurationSeconds,
      log,
      () => this.#node?.metadata?.uid
    );
  }

  /** capacity and allocatable (allocatable = capacity less the eviction thresholds). */
  resources(): { capacity: Record<string, string>; allocatable: Record<string, string> } {
    const m = machineStats(this.opts.rootDir);
    return {
      capacity: {
        cpu: String(m.cpus),
        memory: ki(m.memoryBytes),
        pods: String(this.opts.maxPods),
        'ephemeral-storage': ki(m.diskBytes),
      },
      allocatable: {
        cpu: String(m.cpus),
        memory: ki(Math.max(0, m.memoryBytes - evictionMemoryBytes)),
        pods: String(this.opts.maxPods),
        'ephemeral-storage': String(Math.floor(m.diskBytes * 0.9)),
      },
    };
  }

  /** Adds a condition to every status written from now on. */
  addConditionProvider(p: ConditionProvider): void {
    this.#providers.push(p);
  }

  #extraConditions(now: string): NodeCondition[] {
    return this.#providers.map((p) => {
      const c = p();
      const prev = this.#node?.status?.conditions?.find((o) => o.type === c.type);
      const since = prev?.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
      return { ...c, lastHeartbeatTime: now, lastTransitionTime: since };
    });
  }

  #status(): NodeStatus {
    const m = machineStats(this.opts.rootDir);
    return {
      ...this.resources(),
      conditions: [
        ...nodeConditions(this.#node?.status?.conditions, m, { ok: true }),
        ...this.#extraConditions(new Date().toISOString()),
      ],
      addresses: [
        { type: 'InternalIP', address: this.opts.nodeIP },
        { type: 'Hostname', address: this.opts.hostname },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.port } },
      nodeInfo: this.#info as unknown as NodeStatus['nodeInfo'],
    };
  }

  #labels(): Record<string, string> {
    return {
      'beta.kubernetes.io/arch': nodeArch(),
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': nodeArch(),
      'kubernetes.io/hostname': this.opts.hostname,
      'kubernetes.io/os': 'linux',
      ...this.opts.labels,
    };
  }

  /** Registers the node (when --register-node) and starts the status loop and the lease. */
  async start(): Promise<void> {
    const name = this.opts.nodeName;
    if (this.opts.registerNode) {
      try {
        this.#node = await this.client.request<Node>('POST', '/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name, labels: this.#labels(), annotations: this.opts.annotations },
          spec: {},
          status: this.#status(),
        });
        this.log.info({ node: name }, 'registered the node');
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // Already registered (a restart): keep the object, make sure our labels and annotations are on it.
        this.#node = await this.client.request<Node>(
          'PATCH',
          `/api/v1/nodes/${name}`,
          { metadata: { labels: this.#labels(), annotations: this.opts.annotations } },
          'application/merge-patch+json'
        );
      }
    } else this.#node = await this.client.get<Node>(`/api/v1/nodes/${name}`);
    await this.update(true);
    this.lease.start();
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.update(false)
        .catch((err: unknown) =>
          this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to update the node status')
        )
        .finally(() => this.#schedule());
    }, this.opts.nodeStatusUpdateFrequencyMs);
  }

  /**
   * Writes nodes/status when it differs from the server's copy (heartbeat times aside: someone else, such as
   * the node-lifecycle controller, may have changed it) or the report interval has passed.
   */
  async update(force: boolean): Promise<void> {
    if (!force) this.#node = await this.client.get<Node>(`/api/v1/nodes/${this.opts.nodeName}`);
    const status = this.#status();
    const comparable = (st: NodeStatus | undefined): string =>
      stable({
        capacity: st?.capacity,
        allocatable: st?.allocatable,
        addresses: st?.addresses,
        daemonEndpoints: st?.daemonEndpoints,
        nodeInfo: Object.keys(this.#info).map((k) => (st?.nodeInfo as Record<string, string> | undefined)?.[k]),
        conditions: st?.conditions?.map(({ type, status, reason, message }) => ({ type, status, reason, message })),
      });
    const due = Date.now() - this.#lastReported >= this.opts.nodeStatusReportFrequencyMs;
    if (!force && !due && comparable(this.#node?.status) === comparable(status)) return;
    this.#node = await this.client.request<Node>(
      'PATCH',
      `/api/v1/nodes/${this.opts.nodeName}/status`,
      { status },
      'application/merge-patch+json'
    );
    this.#lastReported = Date.now();
  }

  get node(): Node | undefined {
    return this.#node;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.lease.stop();
  }
}
