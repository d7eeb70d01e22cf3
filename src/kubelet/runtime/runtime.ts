// The container runtime: bubblewrap sandboxes run by detached shims, with all state in
// `<root-dir>/containers/<id>/`. The kubelet keeps no container state of its own, so after a restart
// `load()` finds every container again (running or exited) and adopts it.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../../lib/log.js';
import type { TerminalSize } from '../../streams/index.js';
import { sandboxArgv, withControllingTerminal, type SandboxSpec } from './sandbox.js';
import { loadTerminals, spawnTerminal, type Terminal } from './terminal.js';
import {
  configFile,
  controlSocket,
  newContainerID,
  processAlive,
  readJSON,
  stateFile,
  writeJSONAtomic,
  type ContainerConfig,
  type ContainerState,
} from './state.js';

export interface Container {
  config: ContainerConfig;
  state: ContainerState;
}

export type ContainerRequest = Omit<ContainerConfig, 'id' | 'createdAt' | 'sandboxArgv'> & Omit<SandboxSpec, 'command'>;

const shimPath = fileURLToPath(new URL(`./shim${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

// Run from source (tests, tsx), the shim is TypeScript: it is bundled once into the root dir with esbuild
// (tsx's own compiler) because loading tsx in every shim costs a second or more per container start. node-pty (a
// native module) stays outside the bundle, imported by its absolute path: the bundle lives far from node_modules.
async function shimScript(rootDir: string): Promise<string> {
  if (!shimPath.endsWith('.ts')) return shimPath;
  const out = join(rootDir, 'shim.mjs');
  const esbuild = await import('esbuild');
  const nodePty = pathToFileURL(createRequire(import.meta.url).resolve('node-pty')).href;
  await esbuild.build({
    entryPoints: [shimPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'silent',
    plugins: [
      {
        name: 'node-pty',
        setup: (b) => void b.onResolve({ filter: /^node-pty$/ }, () => ({ path: nodePty, external: true })),
      },
    ],
  });
  return out;
}

export const isRunning = (c: Container): boolean => c.state.finishedAt === undefined;

export class Runtime extends EventEmitter<{ exit: [Container] }> {
  readonly #containers = new Map<string, Container>();
  readonly #dir: string;
  #shim?: Promise<string>;

  constructor(
    private readonly rootDir: string,
    private readonly log: Logger
  ) {
    super();
    this.#dir = join(rootDir, 'containers');
  }

  /** Reads every recorded container; a shim that died without recording an exit counts as exited. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await loadTerminals();
    this.#shim ??= shimScript(this.rootDir);
    for (const entry of await readdir(this.#dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const id = entry.name;
      const dir = join(this.#dir, id);
      const config = await readJSON<ContainerConfig>(configFile(dir));
      if (!config) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      const c = { config, state: (await readJSON<ContainerState>(stateFile(dir))) ?? { shimPid: 0 } };
      this.#containers.set(id, c);
      await this.#reconcile(c);
    }
  }

  list(): Container[] {
    return [...this.#containers.values()];
  }

  forPod(uid: string): Container[] {
    return this.list().filter((c) => c.config.podUID === uid);
  }

  get(id: string): Container | undefined {
    return this.#containers.get(id);
  }

  async start(req: ContainerRequest): Promise<Container> {
    const id = newContainerID();
    const dir = join(this.#dir, id);
    await mkdir(dir, { mode: 0o700 });
    await mkdir(dirname(req.logPath), { recursive: true, mode: 0o755 });
    this.#shim ??= shimScript(this.rootDir);
    const config: ContainerConfig = {
      ...req,
      id,
      createdAt: new Date().toISOString(),
      sandboxArgv: sandboxArgv(req),
    };
    await writeJSONAtomic(configFile(dir), config);
    const shim = spawn(process.execPath, [await this.#shim, dir], { detached: true, stdio: 'ignore' });
    const c: Container = { config, state: { shimPid: shim.pid ?? 0 } };
    this.#containers.set(id, c);
    this.#watchChild(c, shim);
    shim.unref();
    // The shim records the pid as soon as bwrap reports it (tens of milliseconds).
    for (let i = 0; i < 500 && c.state.pid === undefined && isRunning(c); i++) {
      await new Promise((r) => setTimeout(r, 10));
      await this.refresh(c);
    }
    return c;
  }

  #watchChild(c: Container, shim: ChildProcess): void {
    shim.on('exit', () =>
      this.#reconcile(c).catch((err: unknown) =>
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading a container state failed')
      )
    );
  }

  /** Re-reads a container's state file. */
  async refresh(c: Container): Promise<void> {
    const s = await readJSON<ContainerState>(stateFile(join(this.#dir, c.config.id)));
    if (s) c.state = s;
  }

  /** Polls the shims of running containers (upstream's PLEG relist); exits are emitted. */
  async relist(): Promise<void> {
    await Promise.all(
      this.list()
        .filter(isRunning)
        .map((c) => this.#reconcile(c))
    );
  }

  async #reconcile(c: Container): Promise<void> {
    if (!isRunning(c)) return;
    await this.refresh(c);
    if (isRunning(c) && !processAlive(c.state.shimPid)) {
      await this.refresh(c); // the shim may have written its exit just before going
      if (isRunning(c)) {
        this.log.warn({ container: c.config.containerName, pod: c.config.podName }, 'container shim died');
        c.state = {
          ...c.state,
          finishedAt: new Date().toISOString(),
          exitCode: 137,
          reason: 'Error',
          message: 'the container shim died',
        };
        if (this.#containers.has(c.config.id))
          await writeJSONAtomic(stateFile(join(this.#dir, c.config.id)), c.state).catch(() => undefined);
      }
    }
    if (!isRunning(c)) this.emit('exit', c);
  }

  /** Sends a signal to the container's first process through its shim (no risk of a recycled pid). */
  async signal(c: Container, sig: NodeJS.Signals): Promise<void> {
    if (!isRunning(c)) return;
    await new Promise<void>((resolve) => {
      const s = createConnection(controlSocket(join(this.#dir, c.config.id)));
      s.on('connect', () => s.end(`signal ${sig}\n`));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
  }

  /** SIGTERM, up to `graceMs` for the container to exit, then SIGKILL; resolves once it has exited. */
  async stop(c: Container, graceMs: number): Promise<void> {
    if (!isRunning(c)) return;
    await this.signal(c, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRunning(c) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      await this.#reconcile(c);
    }
    for (let i = 0; isRunning(c); i++) {
      if (i % 20 === 0) await this.signal(c, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 50));
      await this.#reconcile(c);
    }
  }

  async remove(c: Container): Promise<void> {
    this.#containers.delete(c.config.id);
    await rm(join(this.#dir, c.config.id), { recursive: true, force: true });
  }

  /**
   * Runs a process inside a running container: nsenter joins the sandbox's mount, pid, ipc and uts namespaces
   * and its root, with the container's environment and working directory. The caller owns the process.
   */
  exec(c: Container, command: string[], opts: { stdin?: boolean } = {}): ChildProcess {
    return spawn('nsenter', nsenterArgs(c, command), {
      env: c.config.env,
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * `exec` on a new pseudo-terminal of `size` (80x24 without one), the command holding it as its controlling
   * terminal. A program that cannot be run makes setsid say `setsid: failed to execute …` and exit 127 (126).
   */
  execTerminal(c: Container, command: string[], size?: TerminalSize): Terminal {
    return spawnTerminal('nsenter', nsenterArgs(c, withControllingTerminal(command)), c.config.env, size);
  }

  /**
   * Attaches to a running container's stdio: the socket carries attach.ts's frames, stdout and stderr from the
   * container, stdin and (for a TTY container) terminal sizes to it.
   */
  attach(c: Container): Socket {
    if (!isRunning(c)) throw new Error(`container ${c.config.containerName} is not running`);
    const s = createConnection(controlSocket(join(this.#dir, c.config.id)));
    s.write('attach\n');
    return s;
  }

  /** The shim pids of every running container (tests stop them by pid). */
  shimPids(): number[] {
    return this.list()
      .filter(isRunning)
      .map((c) => c.state.shimPid)
      .filter((p) => p > 0);
  }
}

/** nsenter into a running container; `-w` alone takes its first process's working directory (nsenter would resolve
 * a named one on the host). */
function nsenterArgs(c: Container, command: string[]): string[] {
  if (!isRunning(c) || !c.state.pid) throw new Error(`container ${c.config.containerName} is not running`);
  return ['-t', String(c.state.pid), '-m', '-u', '-i', '-p', '-r', '-w', '--', ...command];
}
