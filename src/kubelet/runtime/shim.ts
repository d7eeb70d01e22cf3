// The per-container shim (containerd-shim's role): the kubelet starts it detached, in its own session, so a
// kubelet restart leaves containers running. It runs the container's bubblewrap sandbox, writes its output to
// the CRI log file, records pid and exit in state.json, and serves the control socket (attach, signals).
// Usage: node shim.js <container-dir>
import { spawn } from 'node:child_process';
import { readlinkSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { constants } from 'node:os';
import { CriLogWriter, type LogStream } from './logs.js';
import {
  configFile,
  controlSocket,
  readJSON,
  stateFile,
  writeJSONAtomic,
  type ContainerConfig,
  type ContainerState,
} from './state.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: shim <container-dir>');
const config = await readJSON<ContainerConfig>(configFile(dir));
if (!config) throw new Error(`no ${configFile(dir)}`);

const state: ContainerState = { shimPid: process.pid };
// Writes of state.json are queued: the exit record must never be overtaken by the start record.
let writes = Promise.resolve();
const record = (): void => {
  const snapshot = { ...state };
  writes = writes.then(() => writeJSONAtomic(stateFile(dir), snapshot));
};
const logs = new CriLogWriter(config.logPath, config.logMaxSize, config.logMaxFiles);
const attached = new Set<Socket>();
const [bin, ...args] = config.sandboxArgv;
const child = spawn(bin!, args, {
  env: config.env,
  stdio: [config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
});

// Frames to attached clients: 1 byte stream (1 stdout, 2 stderr), 4 bytes length, data.
function output(stream: LogStream, chunk: Buffer): void {
  logs.write(stream, chunk);
  const head = Buffer.alloc(5);
  head[0] = stream === 'stdout' ? 1 : 2;
  head.writeUInt32BE(chunk.length, 1);
  for (const s of attached) s.write(Buffer.concat([head, chunk]));
}
// bwrap's own complaints (a mount it could not make, a program it could not exec) come first on stderr.
let sandboxError = '';
child.stdout!.on('data', (c: Buffer) => output('stdout', c));
child.stderr!.on('data', (c: Buffer) => {
  if (sandboxError.length < 4096) sandboxError += c.toString();
  output('stderr', c);
});

// bwrap reports the container's pid on --info-fd once the namespaces exist, before it has set up the mounts and
// run the command. The container counts as started (and exec may join it) only once that pid runs the command:
// joining earlier finds a half-built mount namespace.
let info = '';
let childPid: number | undefined;
child.stdio[3]!.on('data', (c: Buffer) => {
  info += c.toString();
  const m = /"child-pid":\s*(\d+)/.exec(info);
  if (m && childPid === undefined) {
    childPid = Number(m[1]);
    void recordStarted(childPid);
  }
});

async function recordStarted(pid: number): Promise<void> {
  for (let i = 0; i < 2500 && stillBwrap(pid); i++) await new Promise((r) => setTimeout(r, 2));
  if (state.pid !== undefined) return; // the command already ran and exited (see 'close')
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
      const rest = first.subarray(first.indexOf(0x0a) + 1);
      const stdin = child.stdin;
      if (stdin) {
        if (rest.length) stdin.write(rest);
        sock.on('data', (d: Buffer) => stdin.write(d));
        sock.on('end', () => {
          if (config.stdinOnce) stdin.end();
        });
      }
      sock.on('error', () => attached.delete(sock));
    } else {
      sock.end(`error unknown request ${JSON.stringify(line)}\n`);
    }
  });
  sock.on('error', () => sock.destroy());
});
server.listen(controlSocket(dir));

child.on('close', (code, signal) => {
  if (state.pid === undefined && childPid !== undefined) {
    // The sandbox was up: the command ran (or failed to exec) before recordStarted saw it.
    state.pid = childPid;
    state.startedAt = new Date().toISOString();
  }
  state.finishedAt = new Date().toISOString();
  if (state.pid === undefined) {
    state.exitCode = 128;
    state.reason = 'StartError';
    state.message = sandboxError.trim() || `the sandbox exited ${code ?? signal} before running the command`;
  } else if (code === 1 && sandboxError.startsWith('bwrap: execvp ')) {
    // What runc reports for a missing program: StartError, exit code 128.
    const prog = /^bwrap: execvp (.*?): /.exec(sandboxError)?.[1] ?? config.command[0];
    state.exitCode = 128;
    state.reason = 'StartError';
    state.message = `exec: "${prog}": executable file not found in $PATH`;
  } else {
    state.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
    state.reason = state.exitCode === 0 ? 'Completed' : 'Error';
  }
  logs.close();
  for (const s of attached) {
    s.end();
    s.unref();
  }
  server.close();
  rmSync(controlSocket(dir), { force: true });
  record();
});
