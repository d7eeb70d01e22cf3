// The scheduler's default Filter and Score plugins, as pure functions of a pod and a node with its pods
// (upstream pkg/scheduler/framework/plugins: NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
// NodeResourcesFit, and the LeastAllocated score). Reasons are upstream's strings, so the FailedScheduling
// message reads the same as a real cluster's.
import type {
  Container,
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  Taint,
  Toleration,
} from 'kubernetes-types/core/v1.js';
import { Quantity } from '../api/validation/quantity.js';

export const taintNodeNotReady = 'node.kubernetes.io/not-ready';
export const taintNodeUnreachable = 'node.kubernetes.io/unreachable';
export const taintNodeUnschedulable = 'node.kubernetes.io/unschedulable';

/** Resource amounts: cpu in millicores, everything else in whole units (bytes, pods, devices). */
export type Resources = Map<string, number>;

/** A node and the non-terminal pods bound (or assumed bound) to it: the scheduler's NodeInfo. */
export interface NodeInfo {
  node: Node;
  pods: Pod[];
}

/** The outcome of filtering one node: empty reasons means it fits. */
export interface FilterStatus {
  reasons: string[];
  /** UnschedulableAndUnresolvable: evicting pods (preemption) could not help on this node. */
  unresolvable: boolean;
}

const amount = (name: string, q: string | number): number => {
  const parsed = Quantity.parse(q);
  return name === 'cpu' ? parsed.milliValue() : parsed.value();
};

function containerRequests(c: Container): Resources {
  const out: Resources = new Map();
  for (const [name, q] of Object.entries(c.resources?.requests ?? {})) out.set(name, amount(name, q));
  return out;
}

const addInto = (into: Resources, r: Resources): void => {
  for (const [k, v] of r) into.set(k, (into.get(k) ?? 0) + v);
};
const sum = (a: Resources, b: Resources): Resources => {
  const out = new Map(a);
  addInto(out, b);
  return out;
};
const maxInto = (into: Resources, r: Resources): void => {
  for (const [k, v] of r) into.set(k, Math.max(into.get(k) ?? 0, v));
};

/**
 * A pod's effective requests (upstream resource.PodRequests): the regular containers run together, init
 * containers one at a time before them, so the pod needs the larger of the two; restartable init containers
 * (sidecars) keep running, so they add to everything that starts after them. Plus the pod's overhead.
 */
export function podRequests(pod: Pod): Resources {
  const reqs: Resources = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c));
  const sidecars: Resources = new Map();
  const initMax: Resources = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      addInto(reqs, r);
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else maxInto(initMax, sum(r, sidecars));
  }
  maxInto(reqs, initMax);
  for (const [name, q] of Object.entries(pod.spec?.overhead ?? {}))
    reqs.set(name, (reqs.get(name) ?? 0) + amount(name, q));
  return reqs;
}

/** What the pods on a node request in total. */
export function requestedOn(pods: readonly Pod[]): Resources {
  const total: Resources = new Map();
  for (const p of pods) addInto(total, podRequests(p));
  return total;
}

export function allocatable(node: Node): Resources {
  const out: Resources = new Map();
  for (const [name, q] of Object.entries(node.status?.allocatable ?? node.status?.capacity ?? {}))
    out.set(name, amount(name, q));
  return out;
}

/** Upstream's ToleratesTaint: an empty key with operator Exists tolerates every taint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

const tolerated = (tolerations: readonly Toleration[], taint: Taint): boolean =>
  tolerations.some((t) => toleratesTaint(t, taint));

/**
 * The node's taints, plus the NoSchedule taint the node-lifecycle controller would add for a Ready condition
 * that is not True but not yet tainted (kubelets register with it; this closes the window before the
 * controller's next pass, so a NotReady node never gets pods that do not tolerate it).
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'Unknown' ? taintNodeUnreachable : taintNodeNotReady;
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

function nodeUnschedulable(pod: Pod, node: Node): FilterStatus | undefined {
  if (!node.spec?.unschedulable) return undefined;
  const taint: Taint = { key: taintNodeUnschedulable, effect: 'NoSchedule' };
  if (tolerated(pod.spec?.tolerations ?? [], taint)) return undefined;
  return { reasons: ['node(s) were unschedulable'], unresolvable: true };
}

function taintToleration(pod: Pod, node: Node): FilterStatus | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  const taint = effectiveTaints(node).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerated(tolerations, t)
  );
  if (!taint) return undefined;
  return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], unresolvable: true };
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const [v, bound] = [Number.parseInt(value, 10), Number.parseInt(values[0]!, 10)];
      if (Number.isNaN(v) || Number.isNaN(bound)) return false;
      return r.operator === 'Gt' ? v > bound : v < bound;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; a term with neither matches nothing. */
function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const fieldValue = (key: string): string | undefined => (key === 'metadata.name' ? node.metadata?.name : undefined);
  return (
    exprs.every((r) => requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => requirementMatches(r, fieldValue(r.key)))
  );
}

/** nodeSelector and required node affinity (terms ORed), as upstream's NodeAffinity filter. */
export function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}

function nodeAffinity(pod: Pod, node: Node): FilterStatus | undefined {
  if (matchesNodeSelectorAndAffinity(pod, node)) return undefined;
  return { reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true };
}

interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])])
    for (const p of c.ports ?? [])
      if (p.hostPort) out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
  return out;
}

const portsConflict = (a: HostPort, b: HostPort): boolean =>
  a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0');

function nodePorts(pod: Pod, info: NodeInfo): FilterStatus | undefined {
  const wanted = hostPorts(pod);
  if (wanted.length === 0) return undefined;
  const used = info.pods.flatMap(hostPorts);
  if (!wanted.some((w) => used.some((u) => portsConflict(w, u)))) return undefined;
  return { reasons: ["node(s) didn't have free ports for the requested pod ports"], unresolvable: false };
}

function nodeResourcesFit(pod: Pod, info: NodeInfo): FilterStatus | undefined {
  const reasons: string[] = [];
  const alloc = allocatable(info.node);
  if (info.pods.length + 1 > (alloc.get('pods') ?? 0)) reasons.push('Too many pods');
  const requested = requestedOn(info.pods);
  for (const [name, want] of podRequests(pod)) {
    if (name === 'pods' || want <= 0) continue;
    if (want > (alloc.get(name) ?? 0) - (requested.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  return reasons.length ? { reasons, unresolvable: false } : undefined;
}

/** Runs the filters in upstream's order; the first that rejects the node decides its status. */
export function filterNode(pod: Pod, info: NodeInfo): FilterStatus | undefined {
  return (
    nodeUnschedulable(pod, info.node) ??
    taintToleration(pod, info.node) ??
    nodeAffinity(pod, info.node) ??
    nodePorts(pod, info) ??
    nodeResourcesFit(pod, info)
  );
}

// Upstream's non-zero defaults for scoring, so pods without requests still spread.
const defaultMilliCPURequest = 100;
const defaultMemoryRequest = 200 * 1024 * 1024;

function nonZero(r: Resources): { cpu: number; memory: number } {
  return { cpu: r.get('cpu') || defaultMilliCPURequest, memory: r.get('memory') || defaultMemoryRequest };
}

/** NodeResourcesFit's LeastAllocated score (0–100): the more cpu and memory left free, the better. */
export function leastAllocatedScore(pod: Pod, info: NodeInfo): number {
  const alloc = allocatable(info.node);
  const want = nonZero(podRequests(pod));
  const used = { cpu: 0, memory: 0 };
  for (const p of info.pods) {
    const r = nonZero(podRequests(p));
    used.cpu += r.cpu;
    used.memory += r.memory;
  }
  let score = 0;
  for (const name of ['cpu', 'memory'] as const) {
    const capacity = alloc.get(name) ?? 0;
    const requested = used[name] + want[name];
    score += capacity === 0 || requested > capacity ? 0 : ((capacity - requested) * 100) / capacity;
  }
  return Math.floor(score / 2);
}

/**
 * Upstream's FitError message: a histogram of the reasons, sorted, then what preemption found (nothing is
 * preempted here: nodes that failed on resources report no victims, the rest that preemption cannot help).
 */
export function fitErrorMessage(statuses: readonly FilterStatus[]): string {
  const histogram = (counts: Map<string, number>): string =>
    [...counts]
      .map(([reason, n]) => `${n} ${reason}`)
      .sort()
      .join(', ');
  const reasons = new Map<string, number>();
  const preemption = new Map<string, number>();
  for (const s of statuses) {
    for (const r of s.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const p = s.unresolvable
      ? 'Preemption is not helpful for scheduling'
      : 'No preemption victims found for incoming pod';
    preemption.set(p, (preemption.get(p) ?? 0) + 1);
  }
  const n = statuses.length;
  return `0/${n} nodes are available: ${histogram(reasons)}. preemption: 0/${n} nodes are available: ${histogram(preemption)}.`;
}
