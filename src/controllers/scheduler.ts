// The scheduler (upstream kube-scheduler with its default profile, reduced): watches pods and nodes; each pod
// without a node that names this scheduler is filtered against every node (scheduler-filters.ts), bound to the
// best one through pods/binding, and assumed on it at once so the next pod sees the room it takes. A pod that
// fits nowhere gets PodScheduled=False/Unschedulable and a FailedScheduling event, and is tried again when a
// node or an assigned pod changes (after a back-off), and at the latest every podMaxUnschedulableMs.
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { jsonEqual, rfc3339 } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import { runInformer } from '../lib/informer.js';
import type { Logger } from '../lib/log.js';
import { eventRecorder, type EventRecorder } from './events.js';
import { WorkQueue } from './queue.js';
import {
  filterNode,
  fitErrorMessage,
  leastAllocatedScore,
  type FilterStatus,
  type NodeInfo,
} from './scheduler-filters.js';

export interface SchedulerOptions {
  /** Pods whose spec.schedulerName is this are ours. @default 'default-scheduler' */
  schedulerName?: string;
  /** An unschedulable pod is retried at least this often (upstream podMaxInUnschedulablePodsDuration). @default 300000 */
  podMaxUnschedulableMs?: number;
  /** Back-off of a pod that failed, doubling per attempt from the initial to the max. @default 1000, 10000 */
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
}

const noNodesMessage = 'no nodes available to schedule pods';
const keyOf = (pod: Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
const isTerminal = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

function podRef(pod: Pod) {
  const m = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: m.name ?? '',
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
  };
}

/** Picks the feasible node with the highest score; ties go to the node with fewer pods, then by name. */
export function selectHost(pod: Pod, feasible: readonly NodeInfo[]): NodeInfo | undefined {
  let best: { info: NodeInfo; score: number } | undefined;
  for (const info of feasible) {
    const score = leastAllocatedScore(pod, info);
    const better =
      !best ||
      score > best.score ||
      (score === best.score &&
        (info.pods.length < best.info.pods.length ||
          (info.pods.length === best.info.pods.length &&
            (info.node.metadata?.name ?? '') < (best.info.node.metadata?.name ?? ''))));
    if (better) best = { info, score };
  }
  return best?.info;
}

class Scheduler {
  readonly nodes = new Map<string, Node>();
  readonly pods = new Map<string, Pod>();
  /** Pods bound by us that the watch has not shown bound yet: key → node name. */
  readonly assumed = new Map<string, string>();
  /** Pods that did not fit: key → failed attempts. */
  readonly unschedulable = new Map<string, number>();
  readonly queue: WorkQueue;
  readonly recorder: EventRecorder;
  readonly name: string;
  synced = false;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    signal: AbortSignal,
    private readonly opts: Required<SchedulerOptions>
  ) {
    this.name = opts.schedulerName;
    this.recorder = eventRecorder(client, this.name, log);
    this.queue = new WorkQueue((key) => this.scheduleOne(key), log, signal, {
      baseDelayMs: opts.podInitialBackoffMs,
      maxDelayMs: opts.podMaxBackoffMs,
    });
  }

  isOurs(pod: Pod): boolean {
    return (
      !pod.spec?.nodeName &&
      !pod.metadata?.deletionTimestamp &&
      !isTerminal(pod) &&
      (pod.spec?.schedulerName ?? 'default-scheduler') === this.name
    );
  }

  onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const key = keyOf(pod);
    const old = this.pods.get(key);
    if (type === 'DELETED') {
      this.pods.delete(key);
      this.assumed.delete(key);
      this.unschedulable.delete(key);
      if (old?.spec?.nodeName && !isTerminal(old)) this.clusterChanged();
      return;
    }
    this.pods.set(key, pod);
    if (pod.spec?.nodeName) {
      this.assumed.delete(key);
      this.unschedulable.delete(key);
      // An assigned pod that finished, or is bound elsewhere, frees room or changes what fits.
      if (!old?.spec?.nodeName || (isTerminal(pod) && !isTerminal(old))) this.clusterChanged();
      return;
    }
    if (!this.isOurs(pod) || !this.synced) return;
    // Our own status writes must not requeue a pod that is waiting for the cluster to change.
    const specChanged =
      !old || !jsonEqual(old.spec, pod.spec) || !jsonEqual(old.metadata?.labels, pod.metadata?.labels);
    if (!this.unschedulable.has(key) || specChanged) this.queue.add(key);
  }

  onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node): void {
    const name = node.metadata?.name ?? '';
    const old = this.nodes.get(name);
    if (type === 'DELETED') this.nodes.delete(name);
    else this.nodes.set(name, node);
    // Heartbeat-only updates change nothing a filter reads.
    if (
      type !== 'MODIFIED' ||
      !old ||
      !jsonEqual(old.spec, node.spec) ||
      !jsonEqual(old.metadata?.labels, node.metadata?.labels) ||
      !jsonEqual(old.status?.allocatable, node.status?.allocatable) ||
      !jsonEqual(
        old.status?.conditions?.map((c) => [c.type, c.status]),
        node.status?.conditions?.map((c) => [c.type, c.status])
      )
    )
      this.clusterChanged();
  }

  /** Moves every unschedulable pod back to the queue, after its back-off (upstream MoveAllToActiveOrBackoffQueue). */
  clusterChanged(): void {
    if (!this.synced) return;
    for (const [key, attempts] of this.unschedulable) this.queue.add(key, this.backoff(attempts));
  }

  backoff(attempts: number): number {
    return Math.min(this.opts.podInitialBackoffMs * 2 ** Math.max(attempts - 1, 0), this.opts.podMaxBackoffMs);
  }

  start(): void {
    this.synced = true;
    for (const [key, pod] of this.pods) if (this.isOurs(pod)) this.queue.add(key);
  }

  nodeInfos(): NodeInfo[] {
    const infos = new Map<string, NodeInfo>();
    for (const [name, node] of this.nodes) infos.set(name, { node, pods: [] });
    for (const [key, pod] of this.pods) {
      if (isTerminal(pod)) continue;
      const nodeName = pod.spec?.nodeName || this.assumed.get(key);
      if (nodeName) infos.get(nodeName)?.pods.push(pod);
    }
    return [...infos.values()];
  }

  async scheduleOne(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || !this.isOurs(pod) || this.assumed.has(key)) return;
    const infos = this.nodeInfos();
    const statuses: FilterStatus[] = [];
    const feasible: NodeInfo[] = [];
    for (const info of infos) {
      const status = filterNode(pod, info);
      if (status) statuses.push(status);
      else feasible.push(info);
    }
    const host = selectHost(pod, feasible);
    if (!host) return this.failed(pod, infos.length === 0 ? noNodesMessage : fitErrorMessage(statuses));
    const nodeName = host.node.metadata?.name ?? '';
    // Assumed before the first await, so a pod scheduled meanwhile already counts this one on the node.
    this.assumed.set(key, nodeName);
    const { namespace = '', name = '', uid } = pod.metadata ?? {};
    try {
      await this.client.request(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/binding`,
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        }
      );
    } catch (err) {
      this.assumed.delete(key);
      // Deleted, or bound by someone else, meanwhile: nothing left to do.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    this.unschedulable.delete(key);
    this.log.info({ pod: key, node: nodeName }, 'bound pod');
    this.recorder(podRef(pod), 'Normal', 'Scheduled', `Successfully assigned ${key} to ${nodeName}`, 'Binding');
  }

  async failed(pod: Pod, message: string): Promise<void> {
    const key = keyOf(pod);
    const attempts = (this.unschedulable.get(key) ?? 0) + 1;
    this.unschedulable.set(key, attempts);
    this.queue.add(key, this.opts.podMaxUnschedulableMs);
    this.log.info({ pod: key, message }, 'pod is unschedulable');
    this.recorder(podRef(pod), 'Warning', 'FailedScheduling', message, 'Scheduling');
    const cond: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message };
    const prior = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (prior && prior.status === cond.status && prior.reason === cond.reason && prior.message === cond.message) return;
    const lastTransitionTime = prior?.status === cond.status ? prior.lastTransitionTime : rfc3339();
    const { namespace = '', name = '' } = pod.metadata ?? {};
    try {
      await this.client.request(
        'PATCH',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`,
        { status: { conditions: [{ ...cond, lastProbeTime: null, lastTransitionTime }] } },
        'application/strategic-merge-patch+json'
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export function runScheduler(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  opts: SchedulerOptions = {}
): Promise<void> {
  const s = new Scheduler(client, log, signal, {
    schedulerName: opts.schedulerName ?? 'default-scheduler',
    podMaxUnschedulableMs: opts.podMaxUnschedulableMs ?? 300_000,
    podInitialBackoffMs: opts.podInitialBackoffMs ?? 1000,
    podMaxBackoffMs: opts.podMaxBackoffMs ?? 10_000,
  });
  let nodesSynced = false;
  let podsSynced = false;
  const maybeStart = (): void => {
    if (nodesSynced && podsSynced && !s.synced) s.start();
  };
  const nodes = runInformer<Node>(client, '/api/v1/nodes', log, signal, (t, n) => s.onNode(t, n), {
    onSynced: () => {
      nodesSynced = true;
      maybeStart();
    },
  });
  const pods = runInformer<Pod>(client, '/api/v1/pods', log, signal, (t, p) => s.onPod(t, p), {
    onSynced: () => {
      podsSynced = true;
      maybeStart();
    },
  });
  return Promise.all([nodes, pods]).then(() => undefined);
}
