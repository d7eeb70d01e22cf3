// Konnectivity across hosts, made of network namespaces: the control plane in one, two nodes in two others (a
// bridge in the control plane's namespace, 10.99.0.0/24 only inside them), every inbound TCP connection to the
// node namespaces dropped by nftables (established/related allowed). Every process — `hubspoke server`, both
// `hubspoke agent`s, kubectl — runs under `ip netns exec`, so nothing is sent from the host namespace. kubectl
// logs, exec, attach, port-forward and pods/proxy reach pods on both nodes only through the nodes' outbound tunnels;
// kill -9 of one agent ends its port-forward with an error and leaves the other node working; after kill -9 and a
// restart of `hubspoke server` (its konnectivity server in-process) the surviving agent reconnects.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually } from '../framework/api.js';
import { kubectlBinary } from '../framework/kubectl.js';
import { agentArgs, joinFlags } from '../framework/netns.js';
import { recordedContainerPids } from '../framework/up.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);
const id = randomBytes(2).toString('hex');
const ns = { cp: `h5-${id}-cp`, a: `h5-${id}-n1`, b: `h5-${id}-n2` };
const nodeIP = { a: '10.99.0.11', b: '10.99.0.12' };
const cpIP = '10.99.0.1';

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function makeNetwork(): void {
  for (const n of Object.values(ns)) ip('netns', 'add', n);
  ip('-n', ns.cp, 'link', 'set', 'lo', 'up');
  ip('-n', ns.cp, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns.cp, 'addr', 'add', `${cpIP}/24`, 'dev', 'br0');
  ip('-n', ns.cp, 'link', 'set', 'br0', 'up');
  for (const k of ['a', 'b'] as const) {
    const port = `h5${id}${k}`;
    // Both ends are created inside the namespaces: no interface ever exists in the host's.
    ip('-n', ns.cp, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[k]);
    ip('-n', ns.cp, 'link', 'set', port, 'master', 'br0', 'up');
    ip('-n', ns[k], 'link', 'set', 'lo', 'up');
    ip('-n', ns[k], 'addr', 'add', `${nodeIP[k]}/24`, 'dev', 'eth0');
    ip('-n', ns[k], 'link', 'set', 'eth0', 'up');
    // No inbound TCP at all on the node (its own loopback aside): the control plane cannot dial the kubelet.
    execFileSync('ip', ['netns', 'exec', ns[k], 'nft', '-f', '-'], {
      input: `table inet h5 {
  chain input {
    type filter hook input priority 0; policy accept;
    iif "lo" accept
    ct state established,related accept
    meta l4proto tcp drop
  }
}
`,
    });
  }
}

function removeNetwork(): void {
  for (const n of Object.values(ns)) {
    try {
      ip('netns', 'del', n);
    } catch {
      // not created
    }
  }
}

interface Proc {
  child: ChildProcess;
  waitForLog(re: RegExp, ms?: number): Promise<string>;
  kill(): Promise<void>;
}

const procs: Proc[] = [];

/** A hubspoke command inside a namespace (`ip netns exec` execs it, so the PID is node's). */
function hubspoke(namespace: string, args: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HUBSPOKE_LOG_FORMAT: 'json' },
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  for (const s of [child.stdout, child.stderr])
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) w.resolve(l);
    });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const p: Proc = {
    child,
    waitForLog: (re, ms = 60_000) => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${re} within ${ms} ms: ${lines.slice(-8).join('\n')}`)),
          ms
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  procs.push(p);
  return p;
}

test(
  'kubectl reaches pods on two firewalled nodes only through their konnectivity tunnels',
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'h5-netns-'));
    t.after(async () => {
      for (const p of procs.reverse()) await p.kill();
      // The pods' shims are detached from their kubelet (they outlive its restarts): kill them by their recorded pids.
      for (const k of ['a', 'b'])
        for (const pid of await recordedContainerPids(join(dir, k)))
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
      removeNetwork();
      rmSync(dir, { recursive: true, force: true });
    });
    makeNetwork();
    const dataDir = join(dir, 'cp');
    const kubeconfig = join(dataDir, 'admin.kubeconfig');
    const kubectl = (args: string[], timeoutMs = 60_000) =>
      run('ip', ['netns', 'exec', ns.cp, kubectlBinary(33), '--kubeconfig', kubeconfig, ...args], {
        timeout: timeoutMs,
        env: { ...process.env, HOME: dir },
      });
    const serverArgs = [
      'server',
      '--data-dir',
      dataDir,
      '--bind-address',
      cpIP,
      '--secure-port',
      '6443',
      '--agent-port',
      '8132',
      '--service-cluster-ip-range',
      '10.96.0.0/16',
    ];
    const server = hubspoke(ns.cp, serverArgs);
    await server.waitForLog(/control plane ready/);
    const join_ = await joinFlags(ns.cp, dataDir);
    const agents = { a: undefined as Proc | undefined, b: undefined as Proc | undefined };
    for (const k of ['a', 'b'] as const)
      agents[k] = hubspoke(
        ns[k],
        agentArgs({ server: `https://${cpIP}:6443`, join: join_, root: join(dir, k), name: `node-${k}`, ip: nodeIP[k] })
      );
    await eventually(
      'both nodes report TunnelReady',
      async () => {
        const { stdout } = await kubectl(['get', 'nodes', '-o', 'json']);
        const items = JSON.parse(stdout).items as { status: { conditions: { type: string; status: string }[] } }[];
        const ready = items.filter((n) =>
          n.status.conditions.some((c) => c.type === 'TunnelReady' && c.status === 'True')
        );
        return ready.length === 2 || undefined;
      },
      90_000
    );
    // The firewall holds: the control plane cannot open a connection to a kubelet itself.
    const direct = await run('ip', [
      'netns',
      'exec',
      ns.cp,
      'curl',
      '-sk',
      '--max-time',
      '2',
      `https://${nodeIP.a}:10250/`,
    ]).then(
      () => 0,
      (err: { code?: number }) => err.code
    );
    assert.equal(direct, 28, 'a direct connection to the kubelet times out (inbound TCP dropped)');
    const kubectlApply = async (obj: object): Promise<void> => {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns.cp, kubectlBinary(33), '--kubeconfig', kubeconfig, 'apply', '-f', '-'],
        {
          env: { ...process.env, HOME: dir },
        }
      );
      child.stdin.end(JSON.stringify(obj));
      assert.equal(await new Promise<number | null>((r) => child.once('exit', r)), 0, 'kubectl apply');
    };
    const web = (k: 'a' | 'b') => `print("hello from node-${k}", flush=True)
import http.server
http.server.HTTPServer(("0.0.0.0", 8080), http.server.SimpleHTTPRequestHandler).serve_forever()`;
    for (const k of ['a', 'b'] as const) {
      await eventually('the pod is created', async () => {
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `web-${k}` },
          spec: {
            nodeName: `node-${k}`,
            containers: [
              {
                name: 'c',
                image: 'host',
                command: ['/usr/bin/python3', '-u', '-c', web(k)],
                ports: [{ containerPort: 8080 }],
              },
            ],
          },
        };
        const child = spawn(
          'ip',
          ['netns', 'exec', ns.cp, kubectlBinary(33), '--kubeconfig', kubeconfig, 'apply', '-f', '-'],
          {
            env: { ...process.env, HOME: dir },
          }
        );
        child.stdin.end(JSON.stringify(pod));
        const code = await new Promise<number | null>((r) => child.once('exit', r));
        return code === 0 || undefined;
      });
      await kubectlApply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `echo-${k}` },
        spec: {
          nodeName: `node-${k}`,
          containers: [
            {
              name: 'c',
              image: 'host',
              stdin: true,
              command: [
                '/usr/bin/python3',
                '-u',
                '-c',
                'import sys\nfor l in sys.stdin: print("echo: " + l, end="", flush=True)',
              ],
            },
          ],
        },
      });
    }
    for (const k of ['a', 'b'] as const) {
      const pod = `web-${k}`;
      await eventually(
        `${pod} logs through node-${k}'s tunnel`,
        async () => {
          const { stdout } = await kubectl(['logs', pod]);
          return stdout.includes(`hello from node-${k}`) || undefined;
        },
        60_000
      );
      const { stdout: exec } = await kubectl(['exec', pod, '--', 'sh', '-c', 'echo exec on $0', `node-${k}`]);
      assert.equal(exec.trim(), `exec on node-${k}`);
      const { stdout: proxied } = await kubectl(['get', '--raw', `/api/v1/namespaces/default/pods/${pod}:8080/proxy/`]);
      assert.match(proxied, /Directory listing/);
      // attach: the container's stdin is open (stdin: true), so what kubectl sends comes back on its stdout.
      const att = spawn(
        'ip',
        ['netns', 'exec', ns.cp, kubectlBinary(33), '--kubeconfig', kubeconfig, 'attach', '-i', `echo-${k}`],
        {
          env: { ...process.env, HOME: dir },
          stdio: ['pipe', 'pipe', 'pipe'],
        }
      );
      let attached = '';
      att.stdout.on('data', (d: Buffer) => (attached += String(d)));
      att.stdin.write(`attached to node-${k}\n`);
      try {
        await eventually(
          `attach to echo-${k}`,
          async () => attached.includes(`echo: attached to node-${k}`) || undefined,
          30_000
        );
      } finally {
        att.kill('SIGKILL');
      }
    }

    // A port-forward to node-a's pod, then node-a's agent (and kubelet) killed -9 under it.
    const pf = spawn(
      'ip',
      ['netns', 'exec', ns.cp, kubectlBinary(33), '--kubeconfig', kubeconfig, 'port-forward', 'pod/web-a', '0:8080'],
      {
        env: { ...process.env, HOME: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    );
    let pfOut = '';
    let pfErr = '';
    pf.stdout.on('data', (d: Buffer) => (pfOut += String(d)));
    pf.stderr.on('data', (d: Buffer) => (pfErr += String(d)));
    const pfExit = new Promise<number | null>((r) => pf.once('exit', r));
    t.after(() => void pf.kill('SIGKILL'));
    const local = await eventually('port-forward listens', async () => /127\.0\.0\.1:(\d+) ->/.exec(pfOut)?.[1]);
    const curl = (port: string) =>
      run('ip', ['netns', 'exec', ns.cp, 'curl', '-sS', '--max-time', '10', `http://127.0.0.1:${port}/`], {
        timeout: 20_000,
      });
    assert.match((await curl(local)).stdout, /Directory listing/);
    await agents.a!.kill();
    // The next request finds the tunnel gone; kubectl ends the session with an error instead of hanging.
    await curl(local).catch(() => undefined);
    const code = await Promise.race([pfExit, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    assert.notEqual(code, 0, `port-forward: ${pfErr}`);
    assert.notEqual(code, 'still running', 'kubectl port-forward kept running with its tunnel gone');
    assert.match(pfErr, /error|lost connection/i);
    // node-b is unaffected; node-a now fails fast with "no tunnel".
    const { stdout: still } = await kubectl(['exec', 'web-b', '--', 'echo', 'still here']);
    assert.equal(still.trim(), 'still here');
    const gone = await kubectl(['logs', 'web-a'], 30_000).then(
      () => 'ok',
      (err: { stderr?: string }) => err.stderr ?? ''
    );
    assert.match(gone, /no tunnel to the node/);

    // kill -9 of `hubspoke server` (and so of its in-process konnectivity server), then a restart: node-b's agent
    // finds it again and the next exec works.
    await server.kill();
    const restarted = hubspoke(ns.cp, serverArgs);
    await restarted.waitForLog(/control plane ready/);
    const back = Date.now();
    await eventually(
      'exec on node-b after the server restart',
      async () => (await kubectl(['exec', 'web-b', '--', 'echo', 'back'])).stdout.trim() === 'back' || undefined,
      30_000
    );
    t.diagnostic(`exec through node-b's tunnel ${Date.now() - back} ms after the restarted server was ready`);
  }
);
