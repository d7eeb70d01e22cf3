// The kubelet: registers the node and keeps its status and lease, runs the pods bound to it in bubblewrap
// sandboxes, and offers the in-process interface the kubelet HTTPS server (src/kubelet/server, to come) calls
// for /pods, logs, exec, attach and port-forward. Stopping the kubelet leaves its pods running: the next start
// adopts them from the root dir.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../api/errors.js';
import { KubeClient } from '../lib/kube-client.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import type { Logger } from '../lib/log.js';
import { sshAnnotations } from './nodestatus/ssh.js';
import { NodeStatusManager } from './nodestatus/status.js';
import type { CompletedKubeletOptions } from './options.js';
import { serviceEnv } from './pods/env.js';
import { PodManager } from './pods/manager.js';
import { logFilesOf } from './runtime/logs.js';
import { isRunning, Runtime, type Container } from './runtime/runtime.js';
import type { Terminal } from './runtime/terminal.js';
import type { TerminalSize } from '../streams/index.js';
import { TokenManager } from './volumes/token-manager.js';
import type { CertificateManager } from './bootstrap/manager.js';
import { startKubeletServer } from './server/start.js';
import type { KubeletServer } from './server/server.js';
import type { StatsContainer } from './server/stats.js';
import type { LogSource } from './server/logs.js';

/** What a caller may hand the kubelet instead of what it would make from its options. */
export interface KubeletDeps {
  /** The API client (bootstrap/node.ts passes one whose client certificate rotates). @default from --kubeconfig */
  client?: KubeClient;
  /** The serving certificate, kept current by bootstrap/manager.ts, for the HTTPS server. */
  servingCertificate?: CertificateManager;
}

export class Kubelet {
  readonly #stop = new AbortController();
  #run?: Promise<void>;
  /** The serving certificate when `serverTLSBootstrap` is on (README: "Certificates"). */
  servingCertificate?: CertificateManager;
  /** The HTTPS server (:10250). */
  server!: KubeletServer;

  private constructor(
    readonly options: CompletedKubeletOptions,
    readonly client: KubeClient,
    readonly runtime: Runtime,
    readonly nodeStatus: NodeStatusManager,
    readonly podManager: PodManager
  ) {}

  static async start(o: CompletedKubeletOptions, log: Logger, deps: KubeletDeps = {}): Promise<Kubelet> {
    await mkdir(o.rootDir, { recursive: true, mode: 0o700 });
    await mkdir(o.podLogsDir, { recursive: true, mode: 0o755 });
    const client =
      deps.client ??
      new KubeClient({
        ...(await loadKubeconfig(o.kubeconfig)),
        userAgent: `kubelet/v1.33.0-hubspoke (${o.nodeName})`,
      });
    const runtime = new Runtime(o.rootDir, log.child({ component: 'runtime' }));
    await runtime.load();
    // Before anything starts: a bad --ssh-host-key-file fails the start with nothing to undo.
    const annotations = await sshAnnotations(o);
    // The server first: the port it bound (0 in tests) is what the Node's daemonEndpoints report.
    const server = await startKubeletServer(o, client, deps.servingCertificate, log.child({ component: 'server' }));
    const nodeStatus = new NodeStatusManager(
      client,
      {
        nodeName: o.nodeName,
        nodeIP: o.nodeIP,
        hostname: o.hostname,
        rootDir: o.rootDir,
        labels: o.nodeLabels,
        annotations,
        registerNode: o.registerNode,
        maxPods: o.maxPods,
        port: server.port,
        nodeStatusUpdateFrequencyMs: o.nodeStatusUpdateFrequencyMs,
        nodeStatusReportFrequencyMs: o.nodeStatusReportFrequencyMs,
        nodeLeaseDurationSeconds: o.nodeLeaseDurationSeconds,
      },
      log.child({ component: 'nodestatus' })
    );
    try {
      await nodeStatus.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    const podLog = log.child({ component: 'pods' });
    const podManager = new PodManager({
      client,
      runtime,
      tokens: new TokenManager(client),
      rootDir: o.rootDir,
      podLogsDir: o.podLogsDir,
      nodeIP: o.nodeIP,
      allocatable: nodeStatus.resources().allocatable,
      logMaxSize: o.containerLogMaxSizeBytes,
      logMaxFiles: o.containerLogMaxFiles,
      log: podLog,
      serviceEnv: (pod) => podServiceEnv(client, pod, podLog),
      event: (pod, type, reason, message) => void recordEvent(client, o.nodeName, pod, type, reason, message, podLog),
    });
    const k = new Kubelet(o, client, runtime, nodeStatus, podManager);
    k.servingCertificate = deps.servingCertificate;
    k.server = server;
    server.host = k;
    k.#run = podManager.run(o.nodeName, k.#stop.signal);
    log.info(
      { node: o.nodeName, nodeIP: o.nodeIP, adopted: runtime.list().filter(isRunning).length },
      'kubelet started'
    );
    return k;
  }

  /** Stops the kubelet; its containers keep running. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.nodeStatus.stop();
    await this.server.close();
    await this.#run;
    this.client.close();
  }

  // --- the interface of the kubelet HTTPS server ---

  /** The pods bound to this node, as last seen from the API server (`/pods`). */
  listPods(): Pod[] {
    return this.podManager.pods();
  }

  #pod(ns: string, name: string): Pod {
    const pod = this.listPods().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
    if (!pod) throw new StatusError(404, 'NotFound', `pod "${name}" does not exist`);
    return pod;
  }

  /** The instances of a container, oldest first; 404 Status for an unknown pod or container. */
  #instances(ns: string, podName: string, container: string): Container[] {
    const pod = this.#pod(ns, podName);
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
    if (!names.includes(container))
      throw new StatusError(404, 'NotFound', `container "${container}" not found in pod "${podName}"`);
    return this.runtime
      .forPod(pod.metadata!.uid!)
      .filter((c) => c.config.containerName === container)
      .sort((a, b) => a.config.attempt - b.config.attempt);
  }

  /** The log files of the current (or, with `previous`, the previous) instance, oldest first. */
  containerLogFiles(ns: string, pod: string, container: string, previous = false): string[] {
    const all = this.#instances(ns, pod, container);
    const inst = all[all.length - (previous ? 2 : 1)];
    if (!inst)
      throw new StatusError(
        400,
        'BadRequest',
        previous
          ? `previous terminated container "${container}" in pod "${pod}" not found`
          : `container "${container}" in pod "${pod}" is waiting to start`
      );
    return logFilesOf(inst.config.logPath);
  }

  #running(ns: string, pod: string, container: string): Container {
    let all: Container[];
    try {
      all = this.#instances(ns, pod, container);
    } catch (err) {
      if (err instanceof StatusError && err.message.startsWith('container'))
        throw new StatusError(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
      throw err;
    }
    const cur = all[all.length - 1];
    if (!cur || !isRunning(cur))
      throw new StatusError(400, 'BadRequest', `container ${container} is not running in pod ${pod}`);
    return cur;
  }

  /** The log of the current (or previous) instance, for `/containerLogs`. */
  containerLog(ns: string, pod: string, container: string, previous: boolean): LogSource {
    const files = this.containerLogFiles(ns, pod, container, previous);
    const all = this.#instances(ns, pod, container);
    const inst = all[all.length - (previous ? 2 : 1)]!;
    return { files, running: () => isRunning(inst) };
  }

  /** @throws StatusError 404 for an unknown pod or container, 400 when it is not running */
  assertRunning(ns: string, pod: string, container: string): void {
    this.#instances(ns, pod, container); // 404 before #running's 400s
    this.#running(ns, pod, container);
  }

  /** @throws StatusError 404 for an unknown pod */
  assertPod(ns: string, pod: string): void {
    this.#pod(ns, pod);
  }

  /** The running containers of a pod with their first process, for `/stats/summary`. */
  statsContainers(pod: Pod): StatsContainer[] {
    return this.runtime
      .forPod(pod.metadata!.uid!)
      .filter(isRunning)
      .map((c) => ({ name: c.config.containerName, pid: c.state.pid, startedAt: c.state.startedAt }));
  }

  /** A process in the running container's namespaces (kubectl exec). */
  exec(ns: string, pod: string, container: string, command: string[], opts: { stdin?: boolean } = {}): ChildProcess {
    return this.runtime.exec(this.#running(ns, pod, container), command, opts);
  }

  /** The same on a pseudo-terminal (kubectl exec -t). */
  execTerminal(ns: string, pod: string, container: string, command: string[], size?: TerminalSize): Terminal {
    return this.runtime.execTerminal(this.#running(ns, pod, container), command, size);
  }

  /** The running container's stdio (kubectl attach); see Runtime.attach for the framing. */
  attach(ns: string, pod: string, container: string): Socket {
    return this.runtime.attach(this.#running(ns, pod, container));
  }

  /** A connection to a port of the pod (host network: the node's IP). */
  dialPort(ns: string, pod: string, port: number): Socket {
    this.#pod(ns, pod);
    return connect({ host: this.options.nodeIP, port });
  }
}

async function podServiceEnv(client: KubeClient, pod: Pod, log: Logger): Promise<Record<string, string>> {
  const services: any[] = [];
  try {
    if (pod.spec?.enableServiceLinks !== false) {
      const list = await client.get<{ items: any[] }>(`/api/v1/namespaces/${pod.metadata!.namespace}/services`);
      services.push(
        ...list.items.filter((s) => !(pod.metadata!.namespace === 'default' && s.metadata?.name === 'kubernetes'))
      );
    }
    services.push(await client.get('/api/v1/namespaces/default/services/kubernetes'));
  } catch (err) {
    log.debug({ err: err instanceof Error ? err.message : String(err) }, 'service environment incomplete');
  }
  return serviceEnv(services);
}

async function recordEvent(
  client: KubeClient,
  node: string,
  pod: Pod,
  type: string,
  reason: string,
  message: string,
  log: Logger
): Promise<void> {
  const md = pod.metadata!;
  const now = new Date().toISOString();
  try {
    await client.request('POST', `/api/v1/namespaces/${md.namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${md.name}.${randomBytes(8).toString('hex')}`, namespace: md.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: md.namespace, name: md.name, uid: md.uid },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: node },
      reportingComponent: 'kubelet',
      reportingInstance: node,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  } catch (err) {
    log.debug({ err: err instanceof Error ? err.message : String(err), reason }, 'event not recorded');
  }
}
