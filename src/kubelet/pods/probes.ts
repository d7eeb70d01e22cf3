// Container probes (upstream pkg/kubelet/prober): one worker per container and probe kind, first run after
// initialDelaySeconds, then every periodSeconds with timeoutSeconds; the result flips after successThreshold
// successes or failureThreshold failures in a row. Startup gates liveness and readiness.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container as ContainerSpec, Probe } from 'kubernetes-types/core/v1.js';
import { isRunning, type Container, type Runtime } from '../runtime/runtime.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeResult {
  success: boolean;
  message: string;
}

function resolvePort(port: number | string, spec: ContainerSpec): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = spec.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`unable to find port ${port} in container ${spec.name}`);
  return named.containerPort;
}

/** Runs a probe once. */
export async function runProbe(
  probe: Probe,
  spec: ContainerSpec,
  c: Container,
  runtime: Runtime,
  podIP: string
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    const p = runtime.exec(c, probe.exec.command ?? []);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        resolve({ success: false, message: `command timed out after ${probe.timeoutSeconds ?? 1}s` });
      }, timeoutMs);
      p.on('error', (err) => resolve({ success: false, message: err.message }));
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ success: code === 0, message: out.trim() });
      });
    });
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolvePort(g.port, spec);
    const host = g.host || podIP;
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.33', accept: '*/*' };
    for (const h of g.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const req = g.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const r = req(
        { host, port, path: g.path || '/', method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({
            success: code >= 200 && code < 400,
            message: code >= 200 && code < 400 ? '' : `HTTP probe failed with statuscode: ${code}`,
          });
        }
      );
      r.on('timeout', () =>
        r.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'))
      );
      r.on('error', (err) =>
        resolve({ success: false, message: `Get "http://${host}:${port}${g.path || '/'}": ${err.message}` })
      );
      r.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, spec);
    const host = probe.tcpSocket.host || podIP;
    return new Promise((resolve) => {
      const s = connect({ host, port, timeout: timeoutMs });
      s.on('connect', () => {
        s.destroy();
        resolve({ success: true, message: '' });
      });
      s.on('timeout', () => s.destroy(new Error('i/o timeout')));
      s.on('error', (err) => resolve({ success: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
    });
  }
  return { success: false, message: 'this kubelet supports exec, httpGet and tcpSocket probes' };
}

/** The probe results of one container instance, kept current by timers until `stop()`. */
export class ContainerProbes {
  /** Readiness starts false, liveness true, startup false (true when there is no probe). */
  readonly results: Record<ProbeKind, boolean>;
  readonly messages: Record<ProbeKind, string> = { liveness: '', readiness: '', startup: '' };
  /** Set when a liveness or startup probe failed failureThreshold times: the container must be restarted. */
  failed: 'liveness' | 'startup' | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(
    private readonly spec: ContainerSpec,
    private readonly container: Container,
    private readonly runtime: Runtime,
    private readonly podIP: string,
    private readonly onChange: (kind: ProbeKind) => void,
    /** What the pod's status last said about this very container (it was adopted after a kubelet restart). */
    prior?: { ready?: boolean; started?: boolean }
  ) {
    this.results = {
      liveness: true,
      readiness: !spec.readinessProbe || prior?.ready === true,
      startup: !spec.startupProbe || prior?.started === true,
    };
    const started = Date.parse(container.state.startedAt ?? new Date().toISOString());
    for (const kind of ['liveness', 'readiness', 'startup'] as const) {
      const probe = spec[`${kind}Probe`];
      if (!probe) continue;
      const delay = Math.max(0, started + (probe.initialDelaySeconds ?? 0) * 1000 - Date.now());
      this.#schedule(kind, probe, delay, { successes: 0, failures: 0 });
    }
  }

  #schedule(kind: ProbeKind, probe: Probe, delayMs: number, run: { successes: number; failures: number }): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      void this.#tick(kind, probe, run);
    }, delayMs);
    this.#timers.add(t);
  }

  async #tick(kind: ProbeKind, probe: Probe, run: { successes: number; failures: number }): Promise<void> {
    if (this.#stopped || !isRunning(this.container)) return;
    // Liveness and readiness wait for the startup probe, as upstream's workers do.
    if (kind !== 'startup' && !this.results.startup) {
      this.#schedule(kind, probe, (probe.periodSeconds ?? 10) * 1000, run);
      return;
    }
    let r: ProbeResult;
    try {
      r = await runProbe(probe, this.spec, this.container, this.runtime, this.podIP);
    } catch (err) {
      r = { success: false, message: err instanceof Error ? err.message : String(err) };
    }
    if (this.#stopped) return;
    if (r.success) {
      run.successes++;
      run.failures = 0;
    } else {
      run.failures++;
      run.successes = 0;
    }
    this.messages[kind] = r.message;
    if (!r.success && kind !== 'readiness' && run.failures >= (probe.failureThreshold ?? 3)) {
      this.failed = kind;
      this.onChange(kind);
      return;
    }
    const before = this.results[kind];
    if (r.success && run.successes >= (kind === 'readiness' ? (probe.successThreshold ?? 1) : 1))
      this.results[kind] = true;
    if (!r.success && run.failures >= (probe.failureThreshold ?? 3)) this.results[kind] = false;
    if (before !== this.results[kind]) this.onChange(kind);
    // A startup probe that succeeded is done; a failed liveness or startup probe ends with the container.
    if (kind === 'startup' && this.results.startup) return;
    this.#schedule(kind, probe, (probe.periodSeconds ?? 10) * 1000, run);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
