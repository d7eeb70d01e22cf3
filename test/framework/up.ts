// startUp() for tests: `hubspoke up` as a child process (through tsx, as a user would run it from a checkout) in a
// temp data dir, API server and kubelet on free loopback ports. It resolves once `up` prints its kubeconfig
// line, i.e. the local node is Ready. On test end the process and every container process its kubelet recorded
// are killed by pid, and the data dir removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainScript = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

type Hook = { after(fn: () => Promise<void>): void };

export interface Up {
  child: ChildProcess;
  dataDir: string;
  kubeconfigPath: string;
  nodeName: string;
  stderr(): string;
}

/** The shim and container pids a kubelet's runtime recorded in `<root dir>/containers`. */
export async function recordedContainerPids(rootDir: string): Promise<number[]> {
  const dir = join(rootDir, 'containers');
  const pids: number[] = [];
  for (const id of await readdir(dir).catch(() => [])) {
    const st = JSON.parse(await readFile(join(dir, id, 'state.json'), 'utf8').catch(() => '{}')) as {
      pid?: number;
      shimPid?: number;
    };
    for (const p of [st.pid, st.shimPid]) if (p) pids.push(p);
  }
  return pids;
}

/** The same for `up`'s local node, whose root dir is `<data dir>/agent`. */
export const containerPids = (dataDir: string): Promise<number[]> => recordedContainerPids(join(dataDir, 'agent'));

export async function startUp(
  t: Hook,
  // nodeArgs go before the script (e.g. --cpu-prof, which NODE_OPTIONS does not take).
  opts: { nodeName?: string; timeoutMs?: number; nodeArgs?: string[]; args?: string[] } = {}
): Promise<Up> {
  const nodeName = opts.nodeName ?? 'up-node';
  const dataDir = await mkdtemp(join(tmpdir(), 'hubspoke-up-'));
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      '--import',
      'tsx',
      mainScript,
      'up',
      '--data-dir',
      dataDir,
      '--secure-port',
      '0',
      '--kubelet-port',
      '0',
      '--hostname-override',
      nodeName,
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    for (const pid of await containerPids(dataDir))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`up not ready in time:\n${stderr}`)), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /export KUBECONFIG=(\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`up exited ${code} before it was up:\n${stderr}`));
    });
  });
  return { child, dataDir, kubeconfigPath, nodeName, stderr: () => stderr };
}
