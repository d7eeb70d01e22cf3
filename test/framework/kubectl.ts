// Runs the real kubectl: a versioned binary (kubectl.1.27 … kubectl.1.33) from the directory of the real file
// behind `which kubectl`, against a kubeconfig, with its own discovery cache so every run starts cold.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

let kubectlDir: string | undefined;

export function kubectlBinary(minor: number): string {
  kubectlDir ??= dirname(realpathSync(execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim()));
  return join(kubectlDir, `kubectl.1.${minor}`);
}

/**
 * The kubectl versions the streaming checks run with: 1.27 (SPDY only), 1.30 (WebSocket exec), 1.33 (WebSocket
 * exec and port-forward), and 1.33 with both WebSocket switches off.
 */
export const streamingVariants: readonly [number, Record<string, string>][] = [
  [27, {}],
  [30, {}],
  [33, {}],
  [33, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
];

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[], opts?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  /** Runs and throws (with stderr) unless kubectl exits 0. */
  ok(args: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<string>;
  /** Starts a long-running kubectl (e.g. `get -w`); the caller stops it. */
  spawn(args: string[], opts?: { env?: Record<string, string> }): ReturnType<typeof spawn>;
  minor: number;
}

export function kubectl(minor: number, kubeconfig: string): Kubectl {
  const bin = kubectlBinary(minor);
  const cacheDir = mkdtempSync(join(tmpdir(), 'hubspoke-kubectl-cache-'));
  const fullArgs = (args: string[]): string[] => ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args];
  const run = ((args, opts = {}) =>
    new Promise<KubectlResult>((resolve, reject) => {
      const child = spawn(bin, fullArgs(args), {
        env: { ...process.env, HOME: cacheDir, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(opts.stdin ?? '');
    })) as Kubectl;
  run.ok = async (args, opts) => {
    const r = await run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl.1.${minor} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  run.spawn = (args, opts = {}) =>
    spawn(bin, fullArgs(args), {
      env: { ...process.env, HOME: cacheDir, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  run.minor = minor;
  return run;
}
