// Network namespaces for tests: created with a caller's prefix (each helper/test has its own), wired with veth
// pairs made inside them, and deleted when the test ends, so every address a test uses lives only in its own
// namespaces. Processes run inside with `ip netns exec`. A host-loopback server is reached from inside through a
// Unix socket (a pathname socket is the same file in every network namespace): `relayIntoNetns`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

type Hook = { after(fn: () => Promise<void>): void };
const exec = promisify(execFile);

/** `ip …`, throwing with its stderr. */
export async function ip(...args: string[]): Promise<string> {
  return (await exec('ip', args)).stdout;
}

/** Runs one command inside `ns`; resolves with stdout, throws with stderr on failure. */
export async function inNetns(ns: string, cmd: string, ...args: string[]): Promise<string> {
  return (await exec('ip', ['netns', 'exec', ns, cmd, ...args])).stdout;
}

/** Creates `name` with loopback up; it is deleted (with every process still in it killed by the test) at the end. */
export async function createNetns(t: Hook, name: string): Promise<string> {
  await ip('netns', 'add', name);
  t.after(async () => {
    await ip('netns', 'delete', name).catch(() => undefined);
  });
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

/** A veth pair between two namespaces, made inside the first (no name is ever taken in the host's). */
export async function veth(
  a: { ns: string; dev: string; addrs: string[] },
  b: { ns: string; dev: string; addrs: string[] }
): Promise<void> {
  await ip('-n', a.ns, 'link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns);
  for (const end of [a, b]) {
    for (const addr of end.addrs) await ip('-n', end.ns, 'addr', 'add', addr, 'dev', end.dev);
    await ip('-n', end.ns, 'link', 'set', end.dev, 'up');
  }
}

export interface NetnsProcess {
  child: ChildProcess;
  /** stderr so far, for diagnostics. */
  stderr(): string;
  /** Resolves with the first line of its stdout or stderr (its logs) that `match` accepts (past or future). */
  line(match: (l: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or `signal`); resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `cmd args` inside `ns`; killed by PID when the test ends. */
export function spawnInNetns(
  t: Hook,
  ns: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {}
): NetnsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = once(child, 'exit').then(() => undefined);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  t.after(() => stop('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  for (const input of [child.stdout, child.stderr])
    createInterface({ input }).on('line', (l) => {
      lines.push(l);
      for (const w of [...waiters]) if (w.match(l)) w.resolve(l);
    });
  const line = (match: (l: string) => boolean, timeoutMs = 30_000): Promise<string> => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such line from ${cmd} in ${ns}; stderr:\n${stderr}`)),
        timeoutMs
      );
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${cmd} in ${ns} exited; stderr:\n${stderr}`));
      });
      const w = {
        match,
        resolve: (l: string) => {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(w), 1);
          resolve(l);
        },
      };
      waiters.push(w);
    });
  };
  return { child, stderr: () => stderr, line, stop };
}

const hubspokeMain = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** `hubspoke token create` on the control plane in `ns`: the join flags it prints (`--token`, `--ca-cert-hash`). */
export async function joinFlags(ns: string, dataDir: string): Promise<string[]> {
  const out = await inNetns(
    ns,
    process.execPath,
    '--import',
    'tsx',
    hubspokeMain,
    'token',
    'create',
    '--data-dir',
    dataDir
  );
  const m = /--token (\S+) --ca-cert-hash (\S+)/.exec(out);
  if (!m) throw new Error(`no join command in ${out}`);
  return ['--token', m[1]!, '--ca-cert-hash', m[2]!];
}

/** `hubspoke agent`'s arguments for node `name` at `ip`, its state under `root`, joining `server` with `join`. */
export const agentArgs = (o: { server: string; join: string[]; root: string; name: string; ip: string }): string[] => [
  'agent',
  '--server',
  o.server,
  ...o.join,
  '--root-dir',
  o.root,
  '--pod-logs-dir',
  join(o.root, 'logs'),
  '--hostname-override',
  o.name,
  '--node-ip',
  o.ip,
];

/** A node script run inside `ns` (`node -e`), its arguments after it. */
export const nodeInNetns = (t: Hook, ns: string, script: string, args: string[] = []): NetnsProcess =>
  spawnInNetns(t, ns, process.execPath, ['-e', script, '--', ...args]);

// Inside the namespace: listen on 127.0.0.1:0 there, relay each connection to the Unix socket.
const relayScript = `
const net = require('node:net');
const [sock] = process.argv.slice(1);
const s = net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));
`;

/**
 * Makes host-loopback `port` reachable inside `ns` as 127.0.0.1:<returned port> (there): a Unix socket in `dir`
 * served here, and a relay process in the namespace. TLS passes through untouched.
 */
export async function relayIntoNetns(t: Hook, ns: string, port: number, dir: string): Promise<number> {
  const sock = `${dir}/relay-${ns}-${port}.sock`;
  const open = new Set<{ destroy(): void }>();
  const host = createServer((u) => {
    const c = connect({ host: '127.0.0.1', port });
    for (const s of [u, c]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    u.pipe(c).pipe(u);
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  });
  await new Promise<void>((resolve) => host.listen(sock, resolve));
  t.after(async () => {
    // The server being relayed to may wait for its connections to end before it closes: end them here.
    for (const s of open) s.destroy();
    host.close();
    await rm(sock, { force: true });
  });
  const relay = nodeInNetns(t, ns, relayScript, [sock]);
  const l = await relay.line((s) => s.startsWith('listening '));
  return Number(l.split(' ')[1]);
}
