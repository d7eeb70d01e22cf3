// Pods (upstream printPod): READY counts ready containers, STATUS is the reason a person would want to see —
// an init step, a waiting or terminated container's reason, Terminating — rather than the bare phase.
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wide, type Printer } from './columns.js';
import { docs } from './descriptions.js';
import { humanDuration, parseTimestamp } from './duration.js';
import type { TableRowCondition } from './types.js';

/** The pod reason the node lifecycle controller sets when it loses a node (k8s.io/kubernetes/pkg/util/node). */
const nodeUnreachablePodReason = 'NodeLost';

/** Sidecars: init containers with `restartPolicy: Always` keep running and count towards READY. */
function isRestartableInitContainer(container: Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function conditionIs(conditions: PodCondition[] | undefined, type: string): boolean {
  return conditions?.find((c) => c.type === type)?.status === 'True';
}

function terminationReason(terminated: NonNullable<NonNullable<ContainerStatus['state']>['terminated']>): string {
  if (terminated.reason) return terminated.reason;
  return terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
}

/** The later of `current` and the container's last termination, as upstream tracks the last restart. */
function lastRestart(current: number | undefined, container: ContainerStatus): number | undefined {
  const finished = parseTimestamp(container.lastState?.terminated?.finishedAt);
  if (finished === undefined) return current;
  return current === undefined || current < finished ? finished : current;
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const ready = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${ready}/${gates.length}`;
}

function podCells(obj: KubeObject, now: Date): unknown[] {
  const pod = obj as Pod;
  const status: PodStatus = pod.status ?? {};
  const initContainers = pod.spec?.initContainers ?? [];
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }

  let totalContainers = (pod.spec?.containers ?? []).length;
  const initByName = new Map<string, Container>();
  for (const c of initContainers) {
    initByName.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  let readyContainers = 0;
  let restarts = 0;
  let lastRestartAt: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestartAt: number | undefined;
  let initializing = false;
  for (const [i, container] of (status.initContainerStatuses ?? []).entries()) {
    restarts += container.restartCount ?? 0;
    lastRestartAt = lastRestart(lastRestartAt, container);
    const restartable = isRestartableInitContainer(initByName.get(container.name));
    if (restartable) {
      sidecarRestarts += container.restartCount ?? 0;
      lastSidecarRestartAt = lastRestart(lastSidecarRestartAt, container);
    }
    const { terminated, waiting } = container.state ?? {};
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && container.started) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      reason = `Init:${terminationReason(terminated)}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionIs(status.conditions, 'Initialized')) {
    // Once initialized, only sidecar restarts still matter among the init containers.
    restarts = sidecarRestarts;
    lastRestartAt = lastSidecarRestartAt;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Backwards, so that the first container with a reason to show wins.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i]!;
      restarts += container.restartCount ?? 0;
      lastRestartAt = lastRestart(lastRestartAt, container);
      const { waiting, terminated, running } = container.state ?? {};
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated) {
        reason = terminationReason(terminated);
      } else if (container.ready && running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // One container completed while another still runs: the pod as a whole is not completed.
    if (reason === 'Completed' && hasRunning) {
      reason = conditionIs(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === nodeUnreachablePodReason) reason = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  }

  const restartsCell =
    restarts !== 0 && lastRestartAt !== undefined
      ? `${restarts} (${humanDuration(now.getTime() - lastRestartAt)} ago)`
      : `${restarts}`;

  return [
    nameOf(obj),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    ageOf(obj, now),
    status.podIPs?.[0]?.ip || status.podIP || '<none>',
    pod.spec?.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    readinessGates(pod),
  ];
}

function podConditions(obj: KubeObject): TableRowCondition[] | undefined {
  switch ((obj as Pod).status?.phase) {
    case 'Succeeded':
      return [
        { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
      ];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return undefined;
  }
}

export const podPrinter: Printer = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'
    ),
    ageColumn,
    column('IP', 'string', docs.podStatus.podIP, { priority: wide }),
    column('Node', 'string', docs.podSpec.nodeName, { priority: wide }),
    column('Nominated Node', 'string', docs.podStatus.nominatedNodeName, { priority: wide }),
    column('Readiness Gates', 'string', docs.podSpec.readinessGates, { priority: wide }),
  ],
  cells: podCells,
  conditions: podConditions,
};
