// startServerProcess() for tests: `hubspoke server` as a child process (so a test can kill -9 it), on 127.0.0.1
// port 0, its JSON log read from stderr for the URL it serves and anything else a test waits for. Stopped by PID
// when the test ends; its data dir is the caller's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/lib/kube-client.js';

const mainScript = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

type Hook = { after(fn: () => Promise<void>): void };

export interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

export interface ServerProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** Every log line so far. */
  logs: LogLine[];
  /** Resolves with the first log line (past or future) that `match` accepts. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** A client with the cluster admin's credentials from the data dir. */
  adminClient(): Promise<KubeClient>;
  /** Resident memory of the process, from /proc. */
  rssBytes(): Promise<number>;
  /** kill -9; resolves once the process has exited. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServerProcess(t: Hook, dataDir: string, flags: string[]): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      mainScript,
      'server',
      '--data-dir',
      dataDir,
      '--secure-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--service-cluster-ip-range',
      '127.96.0.0/16',
      // Several servers on one machine: each its own konnectivity agent port.
      '--agent-port',
      '0',
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HUBSPOKE_LOG_FORMAT: 'json' } }
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  t.after(() => stopChild('SIGKILL'));

  const logs: LogLine[] = [];
  const watchers: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { msg: line };
    }
    logs.push(parsed);
    for (const w of [...watchers]) if (w.match(parsed)) w.resolve(parsed);
  });
  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(w), 1);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        watchers.splice(watchers.indexOf(w), 1);
        reject(new Error(`no such log line within ${timeoutMs} ms; last lines: ${JSON.stringify(logs.slice(-5))}`));
      }, timeoutMs);
      watchers.push(w);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`server exited: ${JSON.stringify(logs.slice(-5))}`));
      });
    });
  };
  const ready = await waitForLog((l) => l.msg === 'control plane ready');
  const clients: KubeClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
  });
  return {
    url: ready.url as string,
    pid: child.pid!,
    dataDir,
    logs,
    waitForLog,
    async adminClient() {
      const pki = join(dataDir, 'pki');
      const client = new KubeClient({
        server: ready.url as string,
        caPem: await readFile(join(pki, 'ca.crt'), 'utf8'),
        certPem: await readFile(join(pki, 'admin.crt'), 'utf8'),
        keyPem: await readFile(join(pki, 'admin.key'), 'utf8'),
      });
      clients.push(client);
      return client;
    },
    async rssBytes() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    kill: () => stopChild('SIGKILL'),
    stop: () => stopChild('SIGTERM'),
  };
}
