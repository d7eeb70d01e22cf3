// The taint-eviction controller (upstream pkg/controller/tainteviction, run as the node controller): a pod on a
// node with NoExecute taints is deleted at once when it does not tolerate one of them, or once the shortest
// tolerationSeconds of the tolerations it uses has passed since this controller saw it so; tolerating them all
// without a time limit keeps it forever. Before deleting, the pod gets upstream's DisruptionTarget condition.
//
// Upstream's DefaultTolerationSeconds admission gives every pod 300 s tolerations of the not-ready and
// unreachable NoExecute taints. hubspoke has no such admission plugin yet, so the same defaults are applied
// here to pods that lack those tolerations: a node that goes silent never has its pods deleted sooner than
// upstream would.
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../api/errors.js';
import { rfc3339 } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import { runInformer } from '../lib/informer.js';
import type { Logger } from '../lib/log.js';
import { eventRecorder } from './events.js';
import { taintNodeNotReady, taintNodeUnreachable, toleratesTaint } from './scheduler-filters.js';

export const defaultTolerationSeconds = 300;

/** The pod's tolerations, with DefaultTolerationSeconds' additions where the pod lacks them. */
export function withDefaultTolerations(pod: Pod): Toleration[] {
  const tolerations = [...(pod.spec?.tolerations ?? [])];
  for (const key of [taintNodeNotReady, taintNodeUnreachable]) {
    const covered = tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
    if (!covered)
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
  }
  return tolerations;
}

/**
 * How long the pod may stay on a node with these taints: undefined for ever, 0 for not at all (upstream
 * GetMatchingTolerations and getMinTolerationTime: the first toleration of each taint counts).
 */
export function evictionDelayMs(pod: Pod, taints: readonly Taint[]): number | undefined {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const tolerations = withDefaultTolerations(pod);
  let min: number | undefined;
  for (const taint of noExecute) {
    const used = tolerations.find((t) => toleratesTaint(t, taint));
    if (!used) return 0;
    if (used.tolerationSeconds != null) min = Math.min(min ?? Infinity, Math.max(0, used.tolerationSeconds));
  }
  return min === undefined ? undefined : min * 1000;
}

const keyOf = (pod: Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export function runTaintEvictionController(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const nodes = new Map<string, Node>();
  const pods = new Map<string, Pod>();
  // pod key → when its eviction clock started, and the timer that evicts it.
  const scheduled = new Map<string, { since: number; timer: NodeJS.Timeout }>();
  const recorder = eventRecorder(client, 'taint-eviction-controller', log);

  const cancel = (key: string): void => {
    clearTimeout(scheduled.get(key)?.timer);
    scheduled.delete(key);
  };

  const evict = async (key: string): Promise<void> => {
    scheduled.delete(key);
    const pod = pods.get(key);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const { namespace = '', name = '' } = pod.metadata ?? {};
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    recorder(
      { apiVersion: 'v1', kind: 'Pod', name, namespace, uid: pod.metadata?.uid },
      'Normal',
      'TaintManagerEviction',
      `Marking for deletion Pod ${key}`
    );
    try {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint',
        lastTransitionTime: rfc3339(),
      };
      await client.request(
        'PATCH',
        `${path}/status`,
        { status: { conditions: [condition] } },
        'application/strategic-merge-patch+json'
      );
      await client.request('DELETE', path);
      log.info({ pod: key, node: pod.spec?.nodeName }, 'evicted pod from a NoExecute-tainted node');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  const reconcile = (key: string): void => {
    const pod = pods.get(key);
    const node = pod?.spec?.nodeName ? nodes.get(pod.spec.nodeName) : undefined;
    const delay =
      pod && node && !pod.metadata?.deletionTimestamp ? evictionDelayMs(pod, node.spec?.taints ?? []) : undefined;
    if (delay === undefined) return cancel(key);
    const since = scheduled.get(key)?.since ?? Date.now();
    clearTimeout(scheduled.get(key)?.timer);
    const fire = (): void =>
      void evict(key).catch((err: unknown) => {
        log.warn({ pod: key, err: err instanceof Error ? err.message : String(err) }, 'eviction failed; will retry');
        scheduled.set(key, { since, timer: setTimeout(fire, 1000) });
      });
    scheduled.set(key, { since, timer: setTimeout(fire, Math.max(0, since + delay - Date.now())) });
  };

  signal.addEventListener('abort', () => scheduled.forEach((s) => clearTimeout(s.timer)), { once: true });
  return Promise.all([
    runInformer<Node>(client, '/api/v1/nodes', log, signal, (type, node) => {
      const name = node.metadata?.name ?? '';
      if (type === 'DELETED') nodes.delete(name);
      else nodes.set(name, node);
      for (const [key, pod] of pods) if (pod.spec?.nodeName === name) reconcile(key);
    }),
    runInformer<Pod>(client, '/api/v1/pods', log, signal, (type, pod) => {
      const key = keyOf(pod);
      if (type === 'DELETED' || !pod.spec?.nodeName) pods.delete(key);
      else pods.set(key, pod);
      reconcile(key);
    }),
  ]).then(() => undefined);
}
