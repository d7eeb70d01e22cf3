// The controllers' options, named as kube-controller-manager's flags (options → complete → validate).
import { validateLeaderElection, type LeaderElectionOptions } from './leaderelection.js';
import type { NodeLifecycleOptions } from './node-lifecycle.js';
import type { SchedulerOptions } from './scheduler.js';

export interface ControllerManagerOptions {
  /** `--cluster-signing-cert-file`: the CA the CSR signer issues from. @default the cluster CA */
  clusterSigningCertFile?: string;
  /** `--cluster-signing-key-file`, with the cert file. */
  clusterSigningKeyFile?: string;
  /** `--cluster-signing-duration`: the longest certificate the signer issues. @default 8760h */
  clusterSigningDurationMs?: number;
  /** `--root-ca-file`: the bundle published as `kube-root-ca.crt`. @default the cluster CA certificate */
  rootCAFile?: string;
  /** `--leader-elect` (@default true) and the `--leader-elect-*` durations. */
  leaderElection?: LeaderElectionOptions & { leaderElect?: boolean };
  /** `--node-monitor-grace-period`, `--node-startup-grace-period`, `--node-monitor-period`. */
  nodeLifecycle?: NodeLifecycleOptions;
  /** The scheduler's queue timings (kube-scheduler's own flags and config upstream). */
  scheduler?: SchedulerOptions;
}

/** Every problem at once, each naming its flag. */
export function validateControllerManagerOptions(o: ControllerManagerOptions): string[] {
  const errs: string[] = [];
  if (!!o.clusterSigningCertFile !== !!o.clusterSigningKeyFile)
    errs.push('--cluster-signing-cert-file and --cluster-signing-key-file must be given together');
  if (o.clusterSigningDurationMs !== undefined && !(o.clusterSigningDurationMs > 0))
    errs.push('--cluster-signing-duration: must be positive');
  if (o.leaderElection) errs.push(...validateLeaderElection(o.leaderElection));
  const n = o.nodeLifecycle ?? {};
  for (const [flag, v] of [
    ['--node-monitor-grace-period', n.nodeMonitorGracePeriodMs],
    ['--node-startup-grace-period', n.nodeStartupGracePeriodMs],
    ['--node-monitor-period', n.nodeMonitorPeriodMs],
  ] as const)
    if (v !== undefined && !(v > 0)) errs.push(`${flag}: must be positive`);
  return errs;
}
