// One worker per pod (upstream's podWorkers + SyncPod): each sync looks at what the runtime has for the pod and
// what the spec asks for, starts what is missing (init containers in order, then the rest), restarts per
// restartPolicy with back-off, acts on probes, writes pods/status when it changed, and on deletion stops the
// containers within the grace period and deletes the pod for good.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container as ContainerSpec, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import type { Logger } from '../../lib/log.js';
import { containerLogPath, logFilesOf, podLogDir } from '../runtime/logs.js';
import { isRunning, type Container, type Runtime } from '../runtime/runtime.js';
import type { Mount } from '../runtime/state.js';
import { MountError, podDir, setUpVolumes, type VolumeSetUp } from '../volumes/volumes.js';
import type { TokenManager } from '../volumes/token-manager.js';
import type { Backoff } from './backoff.js';
import { ContainerConfigError, containerCommand, containerEnv } from './env.js';
import { ContainerProbes, runProbe } from './probes.js';
import { latest, podStatus, type ContainerView } from './status.js';

export interface WorkerContext {
  client: KubeClient;
  runtime: Runtime;
  tokens: TokenManager;
  backoff: Backoff;
  rootDir: string;
  podLogsDir: string;
  nodeIP: string;
  allocatable: Record<string, string>;
  logMaxSize: number;
  logMaxFiles: number;
  log: Logger;
  /** Service environment variables for a pod's containers. */
  serviceEnv(pod: Pod): Promise<Record<string, string>>;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** The worker is done: the pod is gone from the API and from the node. */
  onGone(uid: string): void;
}

/** A container that cannot be created as specified: upstream's CreateContainerError. */
class CreateContainerError extends Error {}

const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How often volumes are written again (configMap and secret updates reach running pods). */
const volumeResyncMs = 60_000;
/** Dead instances kept per container: the current one and the previous (`kubectl logs --previous`). */
const keptInstances = 2;

/** Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

const podRef = (pod: Pod): string => `${pod.metadata!.name}_${pod.metadata!.namespace}(${pod.metadata!.uid})`;

function shouldRestart(policy: string, c: Container): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return c.state.exitCode !== 0;
  return false;
}

export class PodWorker {
  #pod: Pod;
  readonly uid: string;
  #dirty = false;
  #busy = false;
  #timer?: NodeJS.Timeout;
  #timerAt = Infinity;
  #gone = false;
  #done = false;
  #volumes?: VolumeSetUp;
  #volumesAt = 0;
  #volumeError?: string;
  #lastStatus = '';
  readonly #probes = new Map<string, ContainerProbes>();

  constructor(
    private readonly ctx: WorkerContext,
    pod: Pod
  ) {
    this.#pod = pod;
    this.uid = pod.metadata!.uid!;
  }

  get pod(): Pod {
    return this.#pod;
  }

  update(pod: Pod): void {
    this.#pod = pod;
    this.kick();
  }

  /** The pod is no longer in the API (deleted for good, or force-deleted). */
  removed(): void {
    this.#gone = true;
    this.kick();
  }

  kick(): void {
    if (this.#done) return;
    this.#dirty = true;
    if (!this.#busy) void this.#loop();
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    for (const p of this.#probes.values()) p.stop();
  }

  #after(ms: number): void {
    const at = Date.now() + ms;
    if (at >= this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.kick();
    }, ms);
  }

  async #loop(): Promise<void> {
    this.#busy = true;
    while (this.#dirty && !this.#done) {
      this.#dirty = false;
      try {
        await this.#sync();
      } catch (err) {
        this.ctx.log.warn(
          { pod: podRef(this.#pod), err: err instanceof Error ? err.message : String(err) },
          'pod sync failed'
        );
        this.#after(1000);
      }
    }
    this.#busy = false;
  }

  #views(specs: ContainerSpec[] | undefined): ContainerView[] {
    const all = this.ctx.runtime.forPod(this.uid);
    return (specs ?? []).map((spec) => ({
      spec,
      instances: all
        .filter((c) => c.config.containerName === spec.name)
        .sort((a, b) => a.config.attempt - b.config.attempt),
      ready: false,
      started: false,
    }));
  }

  async #sync(): Promise<void> {
    const pod = this.#pod;
    if (this.#gone) {
      await this.#killAll((pod.metadata?.deletionGracePeriodSeconds ?? 2) * 1000);
      await this.#cleanUp();
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.#terminate();
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      await this.#killAll(0);
      return;
    }
    await this.#syncVolumes();
    const init = this.#views(pod.spec?.initContainers);
    const app = this.#views(pod.spec?.containers);
    for (const v of [...init, ...app]) await this.#gc(v);
    const policy = pod.spec?.restartPolicy ?? 'Always';

    if (this.#volumeError) {
      for (const v of [...init, ...app]) if (!latest(v)) v.waiting = { reason: 'ContainerCreating' };
      this.#after(2000);
    } else {
      // Init containers run one at a time, in order; a pod whose app containers have run is initialized.
      let initialized = app.some((v) => v.instances.length > 0);
      if (!initialized) {
        initialized = true;
        for (const v of init) {
          const cur = latest(v);
          if (cur && !isRunning(cur) && cur.state.exitCode === 0) continue;
          initialized = false;
          if (cur && isRunning(cur)) break;
          if (!cur || policy !== 'Never') await this.#startOrBackOff(v, cur);
          break;
        }
      }
      for (const v of app) {
        if (!initialized) {
          v.waiting = { reason: 'PodInitializing' };
          continue;
        }
        const cur = latest(v);
        if (cur && isRunning(cur)) await this.#probe(v, cur);
        else if (!cur || shouldRestart(policy, cur)) await this.#startOrBackOff(v, cur);
      }
    }
    for (const [id, p] of this.#probes) {
      const c = this.ctx.runtime.get(id);
      if (!c || !isRunning(c)) {
        p.stop();
        this.#probes.delete(id);
      }
    }
    await this.#writeStatus(init, app, !this.#volumeError);
  }

  async #syncVolumes(): Promise<void> {
    const now = Date.now();
    if (this.#volumes && !this.#volumeError && now < this.#volumesAt) return;
    try {
      this.#volumes = await setUpVolumes(this.ctx.rootDir, this.#pod, {
        client: this.ctx.client,
        tokens: this.ctx.tokens,
        ips: { hostIP: this.ctx.nodeIP, podIP: this.ctx.nodeIP },
        allocatable: this.ctx.allocatable,
      });
      this.#volumeError = undefined;
      this.#volumesAt = Math.min(now + volumeResyncMs, this.#volumes.refreshAt);
      this.#after(this.#volumesAt - now);
    } catch (err) {
      if (!(err instanceof MountError)) throw err;
      if (this.#volumeError !== err.message) this.ctx.event(this.#pod, 'Warning', 'FailedMount', err.message);
      this.#volumeError = err.message;
    }
  }

  async #gc(v: ContainerView): Promise<void> {
    while (v.instances.length > keptInstances && !isRunning(v.instances[0]!)) {
      const old = v.instances.shift()!;
      for (const f of logFilesOf(old.config.logPath)) await rm(f, { force: true });
      await this.ctx.runtime.remove(old);
    }
  }

  async #startOrBackOff(v: ContainerView, cur: Container | undefined): Promise<void> {
    const pod = this.#pod;
    const key = `${this.uid}/${v.spec.name}`;
    if (cur) {
      const finished = Date.parse(cur.state.finishedAt ?? new Date().toISOString());
      const left = this.ctx.backoff.remaining(key, finished);
      if (left > 0) {
        const message = `back-off ${goDuration(this.ctx.backoff.current(key))} restarting failed container=${v.spec.name} pod=${podRef(pod)}`;
        if (v.waiting?.reason !== 'CrashLoopBackOff')
          this.ctx.event(
            pod,
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${v.spec.name} in pod ${podRef(pod)}`
          );
        v.waiting = { reason: 'CrashLoopBackOff', message };
        this.#after(left);
        return;
      }
      this.ctx.backoff.next(key, finished);
    }
    try {
      await this.#start(v, cur ? cur.config.attempt + 1 : 0);
    } catch (err) {
      if (err instanceof ContainerConfigError || err instanceof CreateContainerError) {
        const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
        v.waiting = { reason, message: err.message };
        this.ctx.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
        this.#after(10_000);
        return;
      }
      throw err;
    }
  }

  async #start(v: ContainerView, attempt: number): Promise<void> {
    const pod = this.#pod;
    const spec = v.spec;
    if (!spec.command?.length)
      throw new CreateContainerError(
        `container "${spec.name}" has no command: hubspoke has no image registry and runs the node's own programs, so the entrypoint of image "${spec.image ?? ''}" is unknown; set command`
      );
    const env = await containerEnv(pod, spec, {
      client: this.ctx.client,
      ips: { hostIP: this.ctx.nodeIP, podIP: this.ctx.nodeIP },
      allocatable: this.ctx.allocatable,
      services: await this.ctx.serviceEnv(pod),
    });
    const hostname = pod.spec?.hostname ?? pod.metadata!.name!;
    const fullEnv = { PATH: defaultPath, HOSTNAME: hostname, HOME: '/root', ...env };
    const mounts: Mount[] = [];
    for (const m of spec.volumeMounts ?? []) {
      const vol = this.#volumes?.volumes.get(m.name);
      if (!vol) throw new CreateContainerError(`volume "${m.name}" is not set up`);
      mounts.push({
        hostPath: m.subPath ? join(vol.hostPath, m.subPath) : vol.hostPath,
        containerPath: m.mountPath,
        readOnly: vol.readOnly || m.readOnly === true,
      });
    }
    const md = pod.metadata!;
    const c = await this.ctx.runtime.start({
      podUID: this.uid,
      podNamespace: md.namespace!,
      podName: md.name!,
      containerName: spec.name,
      attempt,
      image: spec.image ?? '',
      command: containerCommand(spec, fullEnv),
      env: fullEnv,
      workingDir: spec.workingDir,
      hostname,
      mounts,
      logPath: containerLogPath(this.ctx.podLogsDir, md.namespace!, md.name!, this.uid, spec.name, attempt),
      logMaxSize: this.ctx.logMaxSize,
      logMaxFiles: this.ctx.logMaxFiles,
      stdin: spec.stdin === true,
      stdinOnce: spec.stdinOnce === true,
      tty: spec.tty === true,
    });
    v.instances.push(c);
    v.waiting = undefined;
    if (isRunning(c)) {
      this.ctx.event(pod, 'Normal', 'Started', `Started container ${spec.name}`);
      await this.#probe(v, c);
    } else this.kick(); // it has already exited: the next sync decides about a restart
  }

  async #probe(v: ContainerView, c: Container): Promise<void> {
    let p = this.#probes.get(c.config.id);
    if (!p) {
      // An adopted container keeps the readiness it had, rather than flapping until its probe runs again.
      const prior = [
        ...(this.#pod.status?.containerStatuses ?? []),
        ...(this.#pod.status?.initContainerStatuses ?? []),
      ].find((st) => st.containerID === `bwrap://${c.config.id}`);
      p = new ContainerProbes(v.spec, c, this.ctx.runtime, this.ctx.nodeIP, () => this.kick(), prior);
      this.#probes.set(c.config.id, p);
    }
    if (p.failed) {
      const what = p.failed === 'liveness' ? 'liveness' : 'startup';
      this.ctx.event(
        this.#pod,
        'Warning',
        'Unhealthy',
        `${what[0]!.toUpperCase()}${what.slice(1)} probe failed: ${p.messages[p.failed]}`
      );
      this.ctx.event(
        this.#pod,
        'Normal',
        'Killing',
        `Container ${v.spec.name} failed ${what} probe, will be restarted`
      );
      p.stop();
      this.#probes.delete(c.config.id);
      const probe = v.spec[`${what}Probe`];
      const grace = probe?.terminationGracePeriodSeconds ?? this.#pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.ctx.runtime.stop(c, grace * 1000);
      this.kick();
      return;
    }
    v.started = p.results.startup;
    v.ready = p.results.startup && p.results.readiness;
  }

  async #writeStatus(
    init: ContainerView[],
    app: ContainerView[],
    sandboxReady: boolean,
    phase?: PodStatus['phase']
  ): Promise<void> {
    const pod = this.#pod;
    const status = podStatus({ pod, init, app, sandboxReady, hostIP: this.ctx.nodeIP, phase });
    // Conditions carry transition times that are stable between syncs, so equal JSON means nothing changed.
    const text = JSON.stringify(status);
    if (text === this.#lastStatus) return;
    try {
      await this.ctx.client.request(
        'PATCH',
        `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}/status`,
        { metadata: { uid: this.uid }, status },
        'application/merge-patch+json'
      );
      this.#lastStatus = text;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #killAll(graceMs: number): Promise<void> {
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
    await Promise.all(
      this.ctx.runtime
        .forPod(this.uid)
        .filter(isRunning)
        .map((c) => this.ctx.runtime.stop(c, graceMs))
    );
  }

  async #terminate(): Promise<void> {
    const pod = this.#pod;
    const graceS = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const deadline = Date.now() + graceS * 1000;
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    await Promise.all(
      this.ctx.runtime
        .forPod(this.uid)
        .filter(isRunning)
        .map(async (c) => {
          const spec = specs.find((s) => s.name === c.config.containerName);
          const preStop = spec?.lifecycle?.preStop;
          if (spec && preStop && (preStop.exec || preStop.httpGet)) {
            const timeoutSeconds = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
            const r = await runProbe(
              { exec: preStop.exec, httpGet: preStop.httpGet, timeoutSeconds },
              spec,
              c,
              this.ctx.runtime,
              this.ctx.nodeIP
            );
            if (!r.success) this.ctx.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.message}`);
          }
          this.ctx.event(pod, 'Normal', 'Killing', `Stopping container ${c.config.containerName}`);
          await this.ctx.runtime.stop(c, Math.max(0, deadline - Date.now()));
        })
    );
    const init = this.#views(pod.spec?.initContainers);
    const app = this.#views(pod.spec?.containers);
    const allOk = app.every((v) => latest(v)?.state.exitCode === 0);
    await this.#writeStatus(init, app, false, allOk ? 'Succeeded' : 'Failed');
    try {
      await this.ctx.client.request(
        'DELETE',
        `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`,
        { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: this.uid } }
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.#cleanUp();
  }

  async #cleanUp(): Promise<void> {
    if (this.#done) return;
    this.stop();
    for (const c of this.ctx.runtime.forPod(this.uid)) await this.ctx.runtime.remove(c);
    const md = this.#pod.metadata!;
    await rm(podDir(this.ctx.rootDir, this.uid), { recursive: true, force: true });
    await rm(podLogDir(this.ctx.podLogsDir, md.namespace!, md.name!, this.uid), { recursive: true, force: true });
    this.ctx.tokens.forget(this.uid);
    this.ctx.backoff.forget(`${this.uid}/`);
    this.ctx.onGone(this.uid);
  }
}
