// Tunnels to one pod port, in one run (issue 6's benchmark; konnectivity's and SSH egress's own hops are measured
// in bench/konnectivity.ts): a pod on `hubspoke up`'s local node runs the sink/echo server (bench/lib/peers.ts)
// on a loopback port, and every path ends there — (a) direct TCP, (b) OpenSSH `ssh -L` through a real sshd on
// loopback, (c) `kubectl port-forward` through the API server and the kubelet: through `up`'s own konnectivity
// tunnel (its default), and through a second `up` whose egress configuration dials the node directly. Per path:
// MB/s of one stream (1 GiB; the sink's byte count checked) and p50/p99 of 1-byte request/response round trips;
// then `kubectl exec -- true` end to end. Ratios against (a) and (b) are printed under the table.
//
//   node --import tsx bench/tunnels.ts [--bytes 1073741824] [--round-trips 2000] [--exec-runs 30] [--repeat 1]
//        [--only direct,ssh,pf-ws,pf-spdy,pf-ws-direct,pf-spdy-direct] [--kubectl 33] [--cpu-prof DIR]
//
// BENCH_BYTES in the environment sets --bytes' default (e.g. BENCH_BYTES=104857600 for a quick run). With
// --repeat R every path is measured R times, interleaved, and the best figure of each kind is kept (on a shared
// machine other work only ever slows a run down). --cpu-prof DIR writes a V8 CPU profile of `hubspoke up` (API
// server and kubelet share its process) to DIR when it stops. Beside each
// figure, the CPU time `hubspoke up` and kubectl spent in the throughput phase is printed, per GB moved.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kubectl as kubectlRunner, kubectlBinary, type Kubectl } from '../test/framework/kubectl.js';
import { startUp, type Up } from '../test/framework/up.js';
import {
  Cleanup,
  cpuMs,
  freeLoopbackPort,
  measureRoundTrips,
  measureRuns,
  measureThroughput,
  printTable,
  ratio,
  startOpenSSHPeer,
  startPortForward,
  startSshTunnel,
  tcpConnect,
  type Connect,
  type OpenSSHPeer,
  type Row,
} from './lib/peers.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** `hubspoke up --egress-selector-config-file` for a direct dial to the local node's kubelet (verified TLS). */
const directEgressConfiguration = JSON.stringify({
  apiVersion: 'apiserver.k8s.io/v1beta1',
  kind: 'EgressSelectorConfiguration',
  egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'Direct' } }],
});

/** One `hubspoke up` with the sink/echo pod on its node (on loopback: the pod shares the node's network). */
interface Cluster {
  up: Up;
  kubectl: Kubectl;
  pod: string;
  podPort: number;
}

/** How `up`'s API server reaches its node: its default (the node's konnectivity tunnel), or a direct dial. */
type Egress = 'konnectivity' | 'direct';

/** What a path may use; the expensive parts start on first use. */
interface Context {
  cleanup: Cleanup;
  cluster(egress: Egress): Promise<Cluster>;
  sshPeer(): Promise<OpenSSHPeer>;
}

interface Path {
  /** Short name for --only. */
  id: string;
  label: string;
  /** Sets the path up (once per run) and returns how to dial it, and the pids whose CPU time it costs. */
  start(ctx: Context): Promise<{ connect: Connect; pids: number[] }>;
}

const portForward =
  (egress: Egress, env: Record<string, string>) =>
  async (ctx: Context): Promise<{ connect: Connect; pids: number[] }> => {
    const c = await ctx.cluster(egress);
    const pf = await startPortForward(
      ctx.cleanup,
      kubectlBinary(c.kubectl.minor),
      c.up.kubeconfigPath,
      `pod/${c.pod}`,
      c.podPort,
      env
    );
    return { connect: pf.connect, pids: [c.up.child.pid!, pf.child.pid!] };
  };

const spdyOnly = { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };

/** One entry per path; a new path (konnectivity's frontends, the SSH egress dialer) is one more entry. */
const paths: Path[] = [
  {
    id: 'direct',
    label: '(a) direct TCP',
    start: async (ctx) => ({ connect: tcpConnect((await ctx.cluster('konnectivity')).podPort), pids: [] }),
  },
  {
    id: 'ssh',
    label: '(b) OpenSSH ssh -L',
    start: async (ctx) => {
      const { podPort } = await ctx.cluster('konnectivity');
      const t = await startSshTunnel(ctx.cleanup, await ctx.sshPeer(), { port: podPort });
      return { connect: t.connect, pids: [t.child.pid!] };
    },
  },
  {
    id: 'pf-ws',
    label: '(c) kubectl port-forward (WebSocket)',
    start: portForward('konnectivity', {}),
  },
  {
    id: 'pf-spdy',
    label: '(c) kubectl port-forward (SPDY)',
    start: portForward('konnectivity', spdyOnly),
  },
  {
    id: 'pf-ws-direct',
    label: '(c) port-forward (WebSocket), direct egress',
    start: portForward('direct', {}),
  },
  {
    id: 'pf-spdy-direct',
    label: '(c) port-forward (SPDY), direct egress',
    start: portForward('direct', spdyOnly),
  },
];

async function startSinkPod(k: Kubectl): Promise<{ pod: string; port: number }> {
  const port = await freeLoopbackPort();
  const pod = 'sink-echo';
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod },
    spec: {
      containers: [
        {
          name: 'sink',
          image: 'host',
          workingDir: repoRoot,
          command: [process.execPath, '--import', 'tsx', 'bench/lib/sink-echo-main.ts', String(port)],
          ports: [{ containerPort: port }],
          readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
        },
      ],
    },
  };
  await k.ok(['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
  await k.ok(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s']);
  return { pod, port };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bytes: { type: 'string', default: process.env.BENCH_BYTES ?? String(1024 ** 3) },
      'round-trips': { type: 'string', default: '2000' },
      'exec-runs': { type: 'string', default: '30' },
      repeat: { type: 'string', default: '1' },
      only: { type: 'string' },
      kubectl: { type: 'string', default: '33' },
      'cpu-prof': { type: 'string' },
    },
  });
  const bytes = Number(values.bytes);
  const roundTrips = Number(values['round-trips']);
  const repeat = Number(values.repeat);
  const only = values.only?.split(',');
  const selected = paths.filter((p) => !only || only.includes(p.id));

  const cleanup = new Cleanup();
  const onSignal = (): void => void cleanup.run().then(() => process.kill(process.pid, 'SIGKILL'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const prof = values['cpu-prof'];
    if (prof) mkdirSync(prof, { recursive: true });
    const configDir = await mkdtemp(join(tmpdir(), 'bench-tunnels-'));
    cleanup.after(() => rm(configDir, { recursive: true, force: true }));
    const clusters = new Map<Egress, Promise<Cluster>>();
    const startCluster = async (egress: Egress): Promise<Cluster> => {
      console.error(`starting hubspoke up (${egress} egress to its node) …`);
      const args: string[] = [];
      if (egress === 'direct') {
        const file = join(configDir, 'egress-direct.yaml');
        await writeFile(file, directEgressConfiguration);
        args.push('--egress-selector-config-file', file);
      }
      const up = await startUp(cleanup, {
        nodeName: `bench-${egress}`,
        timeoutMs: 120_000,
        nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [],
        args,
      });
      const kubectl = kubectlRunner(Number(values.kubectl), up.kubeconfigPath);
      const { pod, port } = await startSinkPod(kubectl);
      return { up, kubectl, pod, podPort: port };
    };
    let peer: Promise<OpenSSHPeer> | undefined;
    const ctx: Context = {
      cleanup,
      cluster: (egress) => clusters.get(egress) ?? clusters.set(egress, startCluster(egress)).get(egress)!,
      sshPeer: () => (peer ??= startOpenSSHPeer(cleanup)),
    };

    const started: { path: Path; connect: Connect; pids: number[] }[] = [];
    for (const path of selected) {
      console.error(`setting up ${path.label} …`);
      started.push({ path, ...(await path.start(ctx)) });
    }
    const best = new Map<string, { mbPerSec: number; cpuMsPerGB: number; p50Ms: number; p99Ms: number }>();
    for (let r = 0; r < repeat; r++) {
      for (const { path, connect, pids } of started) {
        console.error(`run ${r + 1}/${repeat}: ${path.label} …`);
        const cpuBefore = await Promise.all(pids.map(cpuMs));
        const tp = await measureThroughput(connect, bytes);
        const cpuAfter = await Promise.all(pids.map(cpuMs));
        const cpu = cpuAfter.reduce((s, v, i) => s + v - cpuBefore[i]!, 0) / (bytes / 1e9);
        const rt = await measureRoundTrips(connect, roundTrips);
        const b = best.get(path.id);
        best.set(path.id, {
          mbPerSec: Math.max(b?.mbPerSec ?? 0, tp.mbPerSec),
          cpuMsPerGB: Math.min(b?.cpuMsPerGB ?? Infinity, cpu),
          p50Ms: Math.min(b?.p50Ms ?? Infinity, rt.p50Ms),
          p99Ms: Math.min(b?.p99Ms ?? Infinity, rt.p99Ms),
        });
      }
    }

    const direct = best.get('direct');
    const ssh = best.get('ssh');
    const rows: Row[] = started.map(({ path, pids }) => {
      const b = best.get(path.id)!;
      return {
        path: path.label,
        'MB/s': b.mbPerSec,
        'vs (a)': direct ? ratio(b.mbPerSec, direct.mbPerSec) : '',
        'vs (b)': ssh ? ratio(b.mbPerSec, ssh.mbPerSec) : '',
        'CPU s/GB': pids.length ? b.cpuMsPerGB / 1000 : '',
        'RTT p50 ms': b.p50Ms,
        'RTT p99 ms': b.p99Ms,
        'p50 added ms': direct ? b.p50Ms - direct.p50Ms : '',
      };
    });
    const load = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const { kubectl: k, pod } = await ctx.cluster('konnectivity');
    console.log(
      `\n${(bytes / 2 ** 20).toFixed(0)} MiB per stream, ${roundTrips} round trips, best of ${repeat}; ` +
        `kubectl 1.${k.minor}; ${load}\n`
    );
    printTable(rows, 2);

    const exec = await measureRuns(Number(values['exec-runs']), async () => {
      await k.ok(['exec', pod, '--', 'true']);
    });
    console.log(
      `\nkubectl exec ${pod} -- true: p50 ${exec.p50Ms.toFixed(0)} ms, p99 ${exec.p99Ms.toFixed(0)} ms ` +
        `(${exec.n} runs, kubectl start-up included)`
    );
    if (prof) {
      // V8 writes a profile when the process exits on its own: Ctrl-C, as a user stops `up`.
      for (const [egress, c] of clusters) {
        const { child } = (await c).up;
        await writeFile(`${prof}/up-${egress}.pid`, String(child.pid));
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
    }
  } finally {
    await cleanup.run();
  }
}

await main();
