// The per-container shim (containerd-shim's role): the kubelet starts it detached, in its own session, so a
// kubelet restart leaves containers running. It runs the container's bubblewrap sandbox, writes its output to
// the CRI log file, records pid and exit in state.json, and serves the control socket (attach, signals). A
// container with `tty: true` runs on a pseudo-terminal the shim holds, so attach can join and resize it.
// Usage: node shim.js <container-dir>
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { constants } from 'node:os';
import type { TerminalSize } from '../../streams/index.js';
import { AttachFrame, AttachFrameDecoder, decodeResize, encodeAttachFrame } from './attach.js';
import { CriLogWriter, type LogStream } from './logs.js';
import { setsidExecFailure } from './sandbox.js';
import { loadTerminals, onTerminalData, onTerminalExit, spawnTerminal, validSize } from './terminal.js';
import {
  configFile,
  controlSocket,
  readJSON,
  stateFile,
  writeJSONAtomic,
  type ContainerConfig,
  type ContainerState,
} from './state.js';

const dirArg = process.argv[2];
if (!dirArg) throw new Error('usage: shim <container-dir>');
const dir = dirArg;
const loaded = await readJSON<ContainerConfig>(configFile(dir));
if (!loaded) throw new Error(`no ${configFile(dir)}`);
const config = loaded;

const state: ContainerState = { shimPid: process.pid };
// Writes of state.json are queued: the exit record must never be overtaken by the start record.
let writes = Promise.resolve();
const record = (): void => {
  const snapshot = { ...state };
  writes = writes.then(() => writeJSONAtomic(stateFile(dir), snapshot));
};
const logs = new CriLogWriter(config.logPath, config.logMaxSize, config.logMaxFiles);
const attached = new Set<Socket>();

function output(stream: LogStream, chunk: Buffer): void {
  logs.write(stream, chunk);
  const frame = encodeAttachFrame(stream === 'stdout' ? AttachFrame.Stdout : AttachFrame.Stderr, chunk);
  for (const s of attached) s.write(frame);
}
// bwrap's own complaints (a mount it could not make, a program it could not exec) come first on stderr — on the
// terminal for a TTY container.
let sandboxError = '';
const complaint = (c: Buffer): void => {
  if (sandboxError.length < 4096) sandboxError += c.toString();
};

/** What the control socket reaches of the sandbox: its stdin (when it has one) and its terminal's size. */
interface Sandbox {
  stdin?: { write(d: Buffer): void; end(): void };
  resize(size: TerminalSize): void;
}

const [bin, ...args] = config.sandboxArgv;
// The container's pid as soon as bwrap has made it (see recordStarted).
let childPid: number | undefined;
const sandbox: Sandbox = config.tty ? await startOnTerminal() : startOnPipes();

function startOnPipes(): Sandbox {
  const child = spawn(bin!, args, {
    env: config.env,
    stdio: [config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => output('stdout', c));
  child.stderr!.on('data', (c: Buffer) => {
    complaint(c);
    output('stderr', c);
  });
  // bwrap reports the container's pid on --info-fd once the namespaces exist.
  let info = '';
  child.stdio[3]!.on('data', (c: Buffer) => {
    info += c.toString();
    const m = /"child-pid":\s*(\d+)/.exec(info);
    if (m && childPid === undefined) {
      childPid = Number(m[1]);
      void recordStarted(childPid);
    }
  });
  child.on('close', (code, signal) => exited(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  const stdin = child.stdin ?? undefined;
  stdin?.on('error', () => undefined); // the container may exit without reading all of it
  return { stdin, resize: () => undefined };
}

/** A TTY container: bwrap on a pseudo-terminal. Its output is one stream, stdout (as upstream's). */
async function startOnTerminal(): Promise<Sandbox> {
  await loadTerminals();
  const term = spawnTerminal(bin!, args, config.env);
  onTerminalData(term, (c) => {
    complaint(c);
    output('stdout', c);
  });
  onTerminalExit(term, exited);
  void findChildPid(term.pid);
  return {
    // The end of stdin on a terminal: what Ctrl-D at the start of a line sends.
    stdin: config.stdin ? { write: (d) => term.write(d), end: () => term.write('\x04') } : undefined,
    resize: (size) => {
      if (validSize(size) && state.finishedAt === undefined) term.resize(size.width, size.height);
    },
  };
}

/** bwrap's one child is the container (--as-pid-1); without --info-fd it is found in /proc. */
async function findChildPid(bwrap: number): Promise<void> {
  for (let i = 0; i < 2500 && childPid === undefined && state.finishedAt === undefined; i++) {
    let children: string;
    try {
      children = readFileSync(`/proc/${bwrap}/task/${bwrap}/children`, 'utf8').trim();
    } catch {
      return; // bwrap is gone: its exit is recorded as usual
    }
    if (children) {
      childPid = Number(children.split(' ')[0]);
      return recordStarted(childPid);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

// bwrap has the container's pid once the namespaces exist, before it has set up the mounts and run the command.
// The container counts as started (and exec may join it) only once that pid runs the command: joining earlier
// finds a half-built mount namespace.
async function recordStarted(pid: number): Promise<void> {
  for (let i = 0; i < 2500 && stillBwrap(pid); i++) await new Promise((r) => setTimeout(r, 2));
  if (state.pid !== undefined) return; // the command already ran and exited (see exited)
  state.pid = pid;
  state.startedAt = new Date().toISOString();
  record();
}

function stillBwrap(pid: number): boolean {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`)) === 'bwrap';
  } catch {
    return false; // gone already: its exit is recorded as usual
  }
}

const server = createServer((sock) => {
  sock.once('data', (first: Buffer) => {
    const line = first.toString().split('\n')[0]!.trim();
    const [verb, arg] = line.split(' ');
    if (verb === 'signal' && arg && arg in constants.signals) {
      if (state.pid !== undefined && state.finishedAt === undefined) {
        try {
          process.kill(state.pid, arg);
        } catch {
          // already gone: the exit handler records it
        }
      }
      sock.end('ok\n');
    } else if (verb === 'attach') {
      attached.add(sock);
      sock.on('close', () => attached.delete(sock));
      const frames = new AttachFrameDecoder((type, data) => {
        if (type === AttachFrame.Stdin) sandbox.stdin?.write(data);
        else if (type === AttachFrame.Resize) {
          const size = decodeResize(data);
          if (size) sandbox.resize(size);
        }
      });
      const onData = (d: Buffer): void => {
        if (!frames.write(d)) sock.destroy();
      };
      onData(first.subarray(first.indexOf(0x0a) + 1));
      sock.on('data', onData);
      sock.on('end', () => {
        if (config.stdinOnce) sandbox.stdin?.end();
      });
      sock.on('error', () => attached.delete(sock));
    } else {
      sock.end(`error unknown request ${JSON.stringify(line)}\n`);
    }
  });
  sock.on('error', () => sock.destroy());
});
server.listen(controlSocket(dir));

function exited(code: number): void {
  if (state.pid === undefined && childPid !== undefined) {
    // The sandbox was up: the command ran (or failed to exec) before recordStarted saw it.
    state.pid = childPid;
    state.startedAt = new Date().toISOString();
  }
  state.finishedAt = new Date().toISOString();
  const cannotExec =
    (code === 1 && sandboxError.startsWith('bwrap: execvp ')) ||
    ((code === 126 || code === 127) && sandboxError.startsWith(setsidExecFailure));
  if (state.pid === undefined) {
    state.exitCode = 128;
    state.reason = 'StartError';
    state.message = sandboxError.trim() || `the sandbox exited ${code} before running the command`;
  } else if (cannotExec) {
    // What runc reports for a program it cannot run: StartError, exit code 128.
    const m = /^(?:bwrap: execvp|setsid: failed to execute) (.*?): /.exec(sandboxError);
    const why = code === 126 ? 'permission denied' : 'executable file not found in $PATH';
    state.exitCode = 128;
    state.reason = 'StartError';
    state.message = `exec: "${m?.[1] ?? config.command[0]}": ${why}`;
  } else {
    state.exitCode = code;
    state.reason = code === 0 ? 'Completed' : 'Error';
  }
  logs.close();
  for (const s of attached) {
    s.end();
    s.unref();
  }
  server.close();
  rmSync(controlSocket(dir), { force: true });
  record();
}
