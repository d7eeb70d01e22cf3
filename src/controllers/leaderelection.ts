// Leader election on a coordination.k8s.io/v1 Lease, with client-go's leaderelection semantics: candidates try
// to acquire the lease every retryPeriod; the holder renews it, and stops leading when it cannot renew within
// renewDeadline; a standby takes over once it has seen the record unchanged for leaseDuration (measured on its own
// clock from when it last saw the record change, so clock skew between machines does not matter). Every write is
// an update at the resourceVersion read, so two candidates can never both win.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { StatusError } from '../api/errors.js';
import { rfc3339Micro } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';

export interface LeaderElectionOptions {
  /** @default 'kube-system' */
  namespace?: string;
  /** @default 'kube-controller-manager' */
  name?: string;
  /** This candidate's holderIdentity. @default `<hostname>_<uuid>`, as kube-controller-manager */
  identity?: string;
  /** How long a lease is held without renewal before a standby may take it. @default 15000 */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. @default 10000 */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 2000 */
  retryPeriodMs?: number;
  /** On a clean stop, hand the lease back so a standby need not wait for it to expire. @default true */
  releaseOnCancel?: boolean;
}

export interface LeaderCallbacks {
  /** Called on becoming leader; `signal` aborts when leadership ends (lost, or the elector stops). */
  onStartedLeading(signal: AbortSignal): void;
  /** Called after leadership ends, once the work started by onStartedLeading has been told to stop. */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaderElectionRecord;
}

/** client-go's JitterFactor: acquire attempts are spread over [retryPeriod, 2.2 × retryPeriod). */
const jitterFactor = 1.2;

export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** Problems with the durations, as client-go's NewLeaderElector rejects them. */
export function validateLeaderElection(o: LeaderElectionOptions): string[] {
  const lease = o.leaseDurationMs ?? 15_000;
  const renew = o.renewDeadlineMs ?? 10_000;
  const retry = o.retryPeriodMs ?? 2_000;
  const errs: string[] = [];
  if (!(lease > renew)) errs.push('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (!(renew > jitterFactor * retry))
    errs.push(`--leader-elect-renew-deadline must be greater than ${jitterFactor} × --leader-elect-retry-period`);
  if (!(retry > 0)) errs.push('--leader-elect-retry-period must be positive');
  return errs;
}

export class LeaderElector {
  readonly identity: string;
  readonly #o: Required<Omit<LeaderElectionOptions, 'identity'>>;
  readonly #path: string;
  /** The record last read, as JSON, and when (on this clock) it last changed. */
  #observed = '';
  #observedTime = 0;
  #observedLease: Lease | undefined;
  #leader = '';
  #isLeader = false;

  constructor(
    private readonly client: KubeClient,
    opts: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: Logger
  ) {
    const errs = validateLeaderElection(opts);
    if (errs.length) throw new RangeError(errs.join('; '));
    this.identity = opts.identity ?? defaultIdentity();
    this.#o = {
      namespace: opts.namespace ?? 'kube-system',
      name: opts.name ?? 'kube-controller-manager',
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnCancel: opts.releaseOnCancel ?? true,
    };
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`;
  }

  isLeader(): boolean {
    return this.#isLeader;
  }

  /** The holder last observed. */
  get leader(): string {
    return this.#leader;
  }

  /** Campaigns until `signal` aborts; after losing the lease it stands by and campaigns again. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.#acquire(signal);
      if (signal.aborted) return;
      const leading = new AbortController();
      this.#isLeader = true;
      this.log.info({ lease: this.#leaseName, identity: this.identity }, 'successfully acquired lease');
      try {
        this.callbacks.onStartedLeading(leading.signal);
        await this.#renew(signal);
      } finally {
        this.#isLeader = false;
        leading.abort();
        this.callbacks.onStoppedLeading?.();
      }
      if (signal.aborted) {
        if (this.#o.releaseOnCancel) await this.#release();
        return;
      }
      this.log.warn({ lease: this.#leaseName, identity: this.identity }, 'failed to renew lease; stopped leading');
    }
  }

  get #leaseName(): string {
    return `${this.#o.namespace}/${this.#o.name}`;
  }

  async #acquire(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) return;
      await sleep(this.#o.retryPeriodMs * (1 + Math.random() * jitterFactor), signal);
    }
  }

  /** Renews every retryPeriod; returns when a renewal has not succeeded for renewDeadline, or on abort. */
  async #renew(signal: AbortSignal): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.#o.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.#tryAcquireOrRenew(signal)) lastRenew = Date.now();
      else if (!this.#isHolder() || Date.now() - lastRenew >= this.#o.renewDeadlineMs) return;
    }
  }

  #isHolder(): boolean {
    return this.#observedLease?.spec.holderIdentity === this.identity;
  }

  /** One attempt (client-go's tryAcquireOrRenew): true when this candidate holds the lease afterwards. */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    // A request that hangs must not outlive the renew deadline.
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.#o.renewDeadlineMs)]);
    const record: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.#o.leaseDurationMs / 1000)),
      acquireTime: rfc3339Micro(new Date(now)),
      renewTime: rfc3339Micro(new Date(now)),
      leaseTransitions: 0,
    };
    try {
      let current: Lease;
      try {
        current = await this.client.request<Lease>(
          'GET',
          `${this.#path}/${this.#o.name}`,
          undefined,
          undefined,
          attempt
        );
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
        const created = await this.client.request<Lease>(
          'POST',
          this.#path,
          this.#lease(record),
          'application/json',
          attempt
        );
        this.#observe(created, Date.now());
        return true;
      }
      this.#observe(current, now);
      const old = current.spec;
      const heldByOther = !!old.holderIdentity && old.holderIdentity !== this.identity;
      if (heldByOther && this.#observedTime + this.#durationOf(old) > now) return false;
      if (old.holderIdentity === this.identity) {
        record.acquireTime = old.acquireTime ?? record.acquireTime;
        record.leaseTransitions = old.leaseTransitions ?? 0;
      } else {
        record.leaseTransitions = (old.leaseTransitions ?? 0) + 1;
      }
      const updated = await this.client.request<Lease>(
        'PUT',
        `${this.#path}/${this.#o.name}`,
        { ...this.#lease(record), metadata: { ...current.metadata } },
        'application/json',
        attempt
      );
      this.#observe(updated, Date.now());
      return true;
    } catch (err) {
      // A conflict means another candidate wrote first; anything else (unreachable, timeout) is retried too.
      if (!signal.aborted)
        this.log.debug(
          { err: err instanceof Error ? err.message : String(err), lease: this.#leaseName },
          'lease attempt failed'
        );
      return false;
    }
  }

  #durationOf(r: LeaderElectionRecord): number {
    return (r.leaseDurationSeconds ?? Math.round(this.#o.leaseDurationMs / 1000)) * 1000;
  }

  #lease(spec: LeaderElectionRecord): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace },
      spec,
    };
  }

  #observe(lease: Lease, at: number): void {
    const seen = JSON.stringify(lease.spec);
    if (seen !== this.#observed) {
      this.#observed = seen;
      this.#observedTime = at;
    }
    this.#observedLease = lease;
    const holder = lease.spec.holderIdentity ?? '';
    if (holder !== this.#leader) {
      this.#leader = holder;
      if (holder) this.callbacks.onNewLeader?.(holder);
    }
  }

  /** Hands the lease back (client-go's release): no holder, so a standby can acquire at its next attempt. */
  async #release(): Promise<void> {
    const lease = this.#observedLease;
    if (!lease || lease.spec.holderIdentity !== this.identity) return;
    const now = rfc3339Micro();
    try {
      await this.client.request(
        'PUT',
        `${this.#path}/${this.#o.name}`,
        {
          ...lease,
          spec: {
            leaseDurationSeconds: 1,
            renewTime: now,
            acquireTime: now,
            leaseTransitions: lease.spec.leaseTransitions,
          },
        },
        'application/json',
        AbortSignal.timeout(this.#o.retryPeriodMs)
      );
      this.log.info({ lease: this.#leaseName, identity: this.identity }, 'released lease');
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to release lease');
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
