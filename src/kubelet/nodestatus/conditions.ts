// The node conditions the kubelet owns, with upstream's reasons and messages (pkg/kubelet/nodestatus/setters.go).
// Pressure uses the eviction manager's default hard thresholds: memory.available < 100Mi, nodefs.available <
// 10 %, pid.available < 10 % (upstream has no PID default; this keeps a fork bomb visible).
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import type { MachineStats } from './machine.js';

export const evictionMemoryBytes = 100 * 1024 * 1024;

interface Spec {
  type: string;
  bad: boolean;
  ok: [reason: string, message: string];
  notOk: [reason: string, message: string];
}

export function nodeConditions(
  old: NodeCondition[] | undefined,
  m: MachineStats,
  ready: { ok: boolean; message?: string }
): NodeCondition[] {
  const now = new Date().toISOString();
  const specs: Spec[] = [
    {
      type: 'MemoryPressure',
      bad: m.memoryAvailableBytes < evictionMemoryBytes,
      ok: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      notOk: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    },
    {
      type: 'DiskPressure',
      bad: m.diskAvailableBytes < m.diskBytes * 0.1,
      ok: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      notOk: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    },
    {
      type: 'PIDPressure',
      bad: m.pidMax - m.pids < m.pidMax * 0.1,
      ok: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      notOk: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    },
    {
      type: 'Ready',
      bad: !ready.ok,
      ok: ['KubeletReady', 'kubelet is posting ready status'],
      notOk: ['KubeletNotReady', ready.message ?? 'kubelet is not ready'],
    },
  ];
  return specs.map((s) => {
    // Pressure conditions are True when under pressure; Ready is True when ready.
    const status = s.type === 'Ready' ? (s.bad ? 'False' : 'True') : s.bad ? 'True' : 'False';
    const prev = old?.find((c) => c.type === s.type);
    const [reason, message] = s.bad ? s.notOk : s.ok;
    return {
      type: s.type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
      reason,
      message,
    };
  });
}
