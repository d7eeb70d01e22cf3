// Container and pod status as upstream's kubelet reports them (kubelet_pods.go generateAPIPodStatus, getPhase,
// pkg/kubelet/status/generate.go): states with exit codes and reasons, lastState, restartCount, ready/started,
// the phase and the PodReadyToStartContainers, Initialized, Ready, ContainersReady and PodScheduled conditions.
import type {
  ContainerState,
  ContainerStatus,
  Container as ContainerSpec,
  Pod,
  PodCondition,
  PodStatus,
} from 'kubernetes-types/core/v1.js';
import { isRunning, type Container } from '../runtime/runtime.js';

export interface ContainerView {
  spec: ContainerSpec;
  /** Every recorded instance, oldest first. */
  instances: Container[];
  /** Why the container is not running now, when it is not. */
  waiting?: { reason: string; message?: string };
  ready: boolean;
  started: boolean;
}

export const latest = (v: ContainerView): Container | undefined => v.instances[v.instances.length - 1];

function terminated(c: Container): ContainerState {
  const s = c.state;
  return {
    terminated: {
      exitCode: s.exitCode ?? 0,
      reason: s.reason ?? (s.exitCode ? 'Error' : 'Completed'),
      ...(s.message ? { message: s.message } : {}),
      startedAt: s.startedAt ?? s.finishedAt,
      finishedAt: s.finishedAt,
      containerID: `bwrap://${c.config.id}`,
    },
  };
}

export function containerStatus(v: ContainerView): ContainerStatus {
  const cur = latest(v);
  let state: ContainerState;
  let last: ContainerState = {};
  const prev = v.instances[v.instances.length - 2];
  if (cur && isRunning(cur)) {
    state = { running: { startedAt: cur.state.startedAt ?? cur.config.createdAt } };
    if (prev) last = terminated(prev);
  } else if (v.waiting) {
    state = { waiting: v.waiting };
    if (cur) last = terminated(cur);
  } else if (cur) {
    state = terminated(cur);
    if (prev) last = terminated(prev);
  } else state = { waiting: { reason: 'ContainerCreating' } };
  return {
    name: v.spec.name,
    state,
    lastState: last,
    ready: v.ready,
    restartCount: cur?.config.attempt ?? 0,
    image: v.spec.image ?? '',
    imageID: `hubspoke://${v.spec.image ?? ''}`,
    ...(cur ? { containerID: `bwrap://${cur.config.id}` } : {}),
    started: v.started,
  };
}

const succeeded = (s: ContainerStatus): boolean => s.state?.terminated?.exitCode === 0;

/** upstream getPhase */
export function podPhase(pod: Pod, init: ContainerStatus[], app: ContainerStatus[]): PodStatus['phase'] {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (succeeded(s)) continue;
    if (s.state?.terminated || (s.state?.waiting && s.lastState?.terminated)) failedInit++;
    else pendingInit++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let ok = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) ok++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === ok) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(
  old: PodCondition[] | undefined,
  type: string,
  ok: boolean,
  reason?: string,
  message?: string
): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime:
      prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : new Date().toISOString(),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

export interface PodStatusInput {
  pod: Pod;
  init: ContainerView[];
  app: ContainerView[];
  sandboxReady: boolean;
  hostIP: string;
  /** A terminal phase the kubelet decided (a deleted pod whose containers have stopped). */
  phase?: PodStatus['phase'];
}

export function podStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const old = pod.status ?? {};
  const init = input.init.map(containerStatus);
  const app = input.app.map(containerStatus);
  for (const s of init) s.ready = succeeded(s);
  const phase = input.phase ?? podPhase(pod, init, app);
  const notInit = init.filter((s) => !succeeded(s)).map((s) => s.name);
  const notReady = app.filter((s) => !s.ready).map((s) => s.name);
  const completed = phase === 'Succeeded';
  const readyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const readyMessage = completed ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
  const conditions = [
    condition(old.conditions, 'PodReadyToStartContainers', input.sandboxReady),
    notInit.length === 0 || completed
      ? condition(old.conditions, 'Initialized', true, completed && init.length ? 'PodCompleted' : undefined)
      : condition(
          old.conditions,
          'Initialized',
          false,
          'ContainersNotInitialized',
          `containers with incomplete status: [${notInit.join(' ')}]`
        ),
    notReady.length === 0 && !completed
      ? condition(old.conditions, 'Ready', true)
      : condition(old.conditions, 'Ready', false, readyReason, readyMessage),
    notReady.length === 0 && !completed
      ? condition(old.conditions, 'ContainersReady', true)
      : condition(old.conditions, 'ContainersReady', false, readyReason, readyMessage),
    condition(old.conditions, 'PodScheduled', true),
  ];
  // Host network: the pod's IP is the node's.
  return {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.hostIP,
    podIPs: [{ ip: input.hostIP }],
    startTime: old.startTime ?? new Date().toISOString(),
    ...(init.length ? { initContainerStatuses: init } : {}),
    containerStatuses: app,
    qosClass: old.qosClass,
  };
}
