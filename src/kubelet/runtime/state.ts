// What the runtime records per container instance under `<root-dir>/containers/<id>/`: `config.json`, written
// by the kubelet before the shim starts, and `state.json`, written by the shim. The files are the runtime's
// whole memory, so a restarted kubelet adopts running containers by reading them back.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  id: string;
  podUID: string;
  podNamespace: string;
  podName: string;
  containerName: string;
  /** The restart count this instance carries: 0 for the first run. */
  attempt: number;
  image: string;
  /** The container's own command line (command + args, expanded). */
  command: string[];
  env: Record<string, string>;
  workingDir?: string;
  hostname: string;
  mounts: Mount[];
  /** The complete bubblewrap command line the shim runs. */
  sandboxArgv: string[];
  logPath: string;
  logMaxSize: number;
  logMaxFiles: number;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  createdAt: string;
}

export interface ContainerState {
  shimPid: number;
  /** The container's first process, pid 1 of its pid namespace, as the host sees it. */
  pid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** `Completed`, `Error`, or `StartError` when the sandbox never ran the command. */
  reason?: string;
  message?: string;
}

export const configFile = (dir: string): string => join(dir, 'config.json');
export const stateFile = (dir: string): string => join(dir, 'state.json');
/** The shim's control socket: attach and signals. */
export const controlSocket = (dir: string): string => join(dir, 'control.sock');

/** Writes through a temporary file and a rename: a reader (or a kubelet starting up) never sees half a file. */
export async function writeJSONAtomic(path: string, value: unknown): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}`);
  const f = await open(tmp, 'wx', 0o600);
  try {
    await f.writeFile(JSON.stringify(value));
    await f.sync();
  } finally {
    await f.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readJSON<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function newContainerID(): string {
  return randomBytes(32).toString('hex');
}

/** Whether a process exists (signal 0 checks without sending anything). */
export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
