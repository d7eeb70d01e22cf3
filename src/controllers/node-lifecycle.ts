// The node-lifecycle controller (upstream pkg/controller/nodelifecycle, reduced): every nodeMonitorPeriod it
// looks at each node; one whose kubelet has neither renewed its Lease in kube-node-lease nor posted a new
// heartbeat for nodeMonitorGracePeriod (nodeStartupGracePeriod while it has never posted a Ready condition)
// gets its conditions set to Unknown. Nodes are then tainted from their conditions (TaintNodesByCondition:
// NoSchedule taints; and NoExecute not-ready/unreachable taints, upstream's taint-based eviction markers), and
// the pods of a node that is not Ready are marked not Ready (MarkPodsNotReady), so Services stop sending them
// traffic. Evicting pods from NoExecute-tainted nodes is the taint-eviction controller's (taint-eviction.ts).
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { clone, jsonEqual, rfc3339 } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import { runInformer } from '../lib/informer.js';
import type { Logger } from '../lib/log.js';
import { eventRecorder, type EventRecorder } from './events.js';
import { taintNodeNotReady, taintNodeUnreachable, taintNodeUnschedulable } from './scheduler-filters.js';

export interface NodeLifecycleOptions {
  /** `--node-monitor-grace-period`. @default 40000 */
  nodeMonitorGracePeriodMs?: number;
  /** `--node-startup-grace-period`. @default 60000 */
  nodeStartupGracePeriodMs?: number;
  /** `--node-monitor-period`. @default 5000 */
  nodeMonitorPeriodMs?: number;
}

export const nodeLeaseNamespace = 'kube-node-lease';

/** The conditions a kubelet posts that go Unknown with it (upstream's nodeConditionsToUpdate... list). */
const kubeletConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** NoSchedule taints by condition (upstream nodeConditionToTaintKeyStatusMap), plus the cordon taint. */
const conditionTaints: Record<string, Record<string, string>> = {
  Ready: { False: taintNodeNotReady, Unknown: taintNodeUnreachable },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const managedNoScheduleKeys = new Set([
  ...Object.values(conditionTaints).flatMap((m) => Object.values(m)),
  taintNodeUnschedulable,
]);
const managedNoExecuteKeys = new Set([taintNodeNotReady, taintNodeUnreachable]);

const readyCondition = (node: Node): NodeCondition | undefined =>
  node.status?.conditions?.find((c) => c.type === 'Ready');

/**
 * The conditions of a node whose kubelet went silent: each kubelet condition becomes Unknown, keeping its last
 * heartbeat; one never posted is added as never updated. Undefined when nothing changes.
 */
export function unknownConditions(node: Node, now: string): NodeCondition[] | undefined {
  const conditions = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of kubeletConditions) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: now,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      Object.assign(c, {
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastTransitionTime: now,
      });
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

/**
 * The node's taints after the controller's NoSchedule and NoExecute passes: the taints it manages follow the
 * conditions, every other taint is kept as it is. Undefined when nothing changes.
 */
export function reconcileTaints(node: Node, now: string): Taint[] | undefined {
  const conditions = node.status?.conditions ?? [];
  const wantNoSchedule = new Set<string>();
  for (const c of conditions) {
    const key = conditionTaints[c.type]?.[c.status];
    if (key) wantNoSchedule.add(key);
  }
  if (node.spec?.unschedulable) wantNoSchedule.add(taintNodeUnschedulable);
  const ready = readyCondition(node);
  const wantNoExecute = new Set<string>();
  if (ready?.status === 'False') wantNoExecute.add(taintNodeNotReady);
  if (ready?.status === 'Unknown') wantNoExecute.add(taintNodeUnreachable);

  // Until the kubelet posts a Ready condition, the Ready taints it registered with are left alone.
  const owns = (t: Taint): boolean => {
    if (!ready && (t.key === taintNodeNotReady || t.key === taintNodeUnreachable)) return false;
    if (t.effect === 'NoSchedule') return managedNoScheduleKeys.has(t.key);
    return t.effect === 'NoExecute' && managedNoExecuteKeys.has(t.key);
  };
  const current = node.spec?.taints ?? [];
  const next = current.filter(
    (t) => !owns(t) || (t.effect === 'NoSchedule' ? wantNoSchedule : wantNoExecute).has(t.key)
  );
  const has = (key: string, effect: string): boolean => next.some((t) => t.key === key && t.effect === effect);
  for (const key of wantNoSchedule)
    if (!has(key, 'NoSchedule')) next.push({ key, effect: 'NoSchedule', timeAdded: now });
  for (const key of wantNoExecute) if (!has(key, 'NoExecute')) next.push({ key, effect: 'NoExecute', timeAdded: now });
  return jsonEqual(next, current) ? undefined : next;
}

interface NodeHealth {
  /** When this controller last saw the kubelet alive (its own clock, as upstream's probeTimestamp). */
  probeTimestamp: number;
  heartbeat?: string;
  leaseRenewTime?: string;
  /** The Ready status seen on the previous pass, to notice transitions. */
  readyStatus?: string;
}

class NodeLifecycleController {
  readonly nodes = new Map<string, Node>();
  readonly pods = new Map<string, Pod>();
  readonly health = new Map<string, NodeHealth>();
  readonly recorder: EventRecorder;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    readonly opts: Required<NodeLifecycleOptions>
  ) {
    this.recorder = eventRecorder(client, 'node-controller', log);
  }

  healthOf(name: string): NodeHealth {
    let h = this.health.get(name);
    if (!h) this.health.set(name, (h = { probeTimestamp: Date.now() }));
    return h;
  }

  onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node): void {
    const name = node.metadata?.name ?? '';
    if (type === 'DELETED') {
      this.nodes.delete(name);
      this.health.delete(name);
      return;
    }
    this.nodes.set(name, node);
    const h = this.healthOf(name);
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    if (heartbeat !== h.heartbeat) {
      h.heartbeat = heartbeat;
      h.probeTimestamp = Date.now();
    }
  }

  onLease(type: 'ADDED' | 'MODIFIED' | 'DELETED', lease: Lease): void {
    if (type === 'DELETED') return;
    const h = this.healthOf(lease.metadata?.name ?? '');
    const renew = lease.spec?.renewTime;
    if (renew && renew !== h.leaseRenewTime) {
      h.leaseRenewTime = renew;
      h.probeTimestamp = Date.now();
    }
  }

  onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (type === 'DELETED') this.pods.delete(key);
    else this.pods.set(key, pod);
  }

  async monitor(): Promise<void> {
    for (const name of [...this.nodes.keys()]) {
      try {
        await this.monitorNode(name);
      } catch (err) {
        // A conflict means the node changed meanwhile: the next pass sees the new version.
        if (!isConflict(err) && !isNotFound(err))
          this.log.warn(
            { node: name, err: err instanceof Error ? err.message : String(err) },
            'node health check failed'
          );
      }
    }
  }

  async monitorNode(name: string): Promise<void> {
    let node = this.nodes.get(name);
    if (!node) return;
    const h = this.healthOf(name);
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    const grace = readyCondition(node) ? this.opts.nodeMonitorGracePeriodMs : this.opts.nodeStartupGracePeriodMs;
    if (Date.now() > h.probeTimestamp + grace) {
      const conditions = unknownConditions(node, rfc3339());
      if (conditions) {
        const next: Node = { ...clone(node), status: { ...node.status, conditions } };
        node = await this.client.request<Node>('PUT', `${path}/status`, next);
        this.nodes.set(name, node);
        this.log.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
      }
    }
    const taints = reconcileTaints(node, rfc3339());
    if (taints) {
      const next = clone(node);
      next.spec = { ...next.spec, taints };
      node = await this.client.request<Node>('PUT', path, next);
      this.nodes.set(name, node);
    }
    const ready = readyCondition(node)?.status;
    if (ready !== h.readyStatus) {
      // Upstream's RecordNodeStatusChange; events about a node carry its name as the uid.
      const ref = { apiVersion: 'v1', kind: 'Node', name, uid: name };
      if (h.readyStatus !== undefined && ready !== undefined) {
        const status = ready === 'True' ? 'NodeReady' : 'NodeNotReady';
        if (ready === 'True' || h.readyStatus === 'True')
          this.recorder(ref, 'Normal', status, `Node ${name} status is now: ${status}`);
      }
      h.readyStatus = ready;
    }
    if (ready !== undefined && ready !== 'True') await this.markPodsNotReady(name);
  }

  /** Upstream MarkPodsNotReady: the Ready condition of every pod on the node goes False. */
  async markPodsNotReady(nodeName: string): Promise<void> {
    for (const pod of this.pods.values()) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const i = pod.status?.conditions?.findIndex((c) => c.type === 'Ready') ?? -1;
      if (i < 0 || pod.status!.conditions![i]!.status === 'False') continue;
      const next = clone(pod);
      const cond = next.status!.conditions![i]!;
      cond.status = 'False';
      cond.lastTransitionTime = rfc3339();
      const { namespace = '', name = '' } = pod.metadata ?? {};
      try {
        const updated = await this.client.request<Pod>(
          'PUT',
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`,
          next
        );
        this.pods.set(`${namespace}/${name}`, updated);
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) continue;
        throw err;
      }
      this.log.info({ pod: `${namespace}/${name}`, node: nodeName }, 'marked pod not ready');
      this.recorder(
        { apiVersion: 'v1', kind: 'Pod', name, namespace, uid: pod.metadata?.uid },
        'Warning',
        'NodeNotReady',
        'Node is not ready'
      );
    }
  }
}

export function runNodeLifecycleController(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  opts: NodeLifecycleOptions = {}
): Promise<void> {
  const c = new NodeLifecycleController(client, log, {
    nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs ?? 40_000,
    nodeStartupGracePeriodMs: opts.nodeStartupGracePeriodMs ?? 60_000,
    nodeMonitorPeriodMs: opts.nodeMonitorPeriodMs ?? 5000,
  });
  let running = false;
  let nodesSynced = false;
  const timer = setInterval(() => {
    if (running || !nodesSynced) return;
    running = true;
    void c.monitor().finally(() => (running = false));
  }, c.opts.nodeMonitorPeriodMs);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return Promise.all([
    runInformer<Node>(client, '/api/v1/nodes', log, signal, (t, n) => c.onNode(t, n), {
      onSynced: () => (nodesSynced = true),
    }),
    runInformer<Lease>(
      client,
      `/apis/coordination.k8s.io/v1/namespaces/${nodeLeaseNamespace}/leases`,
      log,
      signal,
      (t, l) => c.onLease(t, l)
    ),
    runInformer<Pod>(client, '/api/v1/pods', log, signal, (t, p) => c.onPod(t, p)),
  ]).then(() => undefined);
}
