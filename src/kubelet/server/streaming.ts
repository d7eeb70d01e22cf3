// `/exec`, `/attach`, `/portForward` and `/run` (streaming.md §1.4): the kubelet terminates the protocols itself
// (SPDY v4 and WebSocket v5 for exec/attach; SPDY, the WebSocket SPDY tunnel and legacy WebSocket for
// port-forward — all from src/streams) and joins them to the runtime's processes and the pod's ports. The pod and
// container are checked before the upgrade is accepted, so an unknown one is a plain 404/400 Status. A TTY exec
// runs on a pseudo-terminal (one output, on stdout; resizes applied); a TTY attach joins the terminal of a
// container with `tty: true` held by its shim.
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { newBadRequest } from '../../api/errors.js';
import type { Logger } from '../../lib/log.js';
import {
  acceptPortForward,
  acceptRemoteCommand,
  execErrorStatus,
  exitCodeStatus,
  parsePortForwardPorts,
  parseRemoteCommandOptions,
  type RemoteCommandSession,
  type TerminalSize,
} from '../../streams/index.js';
import { AttachFrame, AttachFrameDecoder, encodeAttachFrame, encodeResizeFrame } from '../runtime/attach.js';
import { setsidExecFailure } from '../runtime/sandbox.js';
import { onTerminalData, onTerminalExit, validSize, type Terminal } from '../runtime/terminal.js';

/** What the streaming handlers need of the kubelet (Kubelet implements it). */
export interface StreamingHost {
  /** @throws StatusError 404 unknown pod or container, 400 not running */
  assertRunning(ns: string, pod: string, container: string): void;
  /** @throws StatusError 404 unknown pod */
  assertPod(ns: string, pod: string): void;
  exec(ns: string, pod: string, container: string, command: string[], opts?: { stdin?: boolean }): ChildProcess;
  /** `exec` on a pseudo-terminal (see Runtime.execTerminal). */
  execTerminal(ns: string, pod: string, container: string, command: string[], size?: TerminalSize): Terminal;
  /** The shim's attach connection (frames of runtime/attach.ts). */
  attach(ns: string, pod: string, container: string): Socket;
  dialPort(ns: string, pod: string, port: number): Socket;
}

export interface Target {
  ns: string;
  pod: string;
  container: string;
}

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };

/**
 * Holds a process's first output while it may still be the launcher's own failure to run the program —
 * `nsenter: failed to execute foo: No such file or directory` (exit 127; 126 when not executable), or setsid's on a
 * terminal — which comes before anything the program could write. That goes on the error channel instead.
 */
class LaunchFailure {
  /** What is held; undefined once it has been passed on. */
  #head: Buffer | undefined = Buffer.alloc(0);

  constructor(
    private readonly launcher: 'nsenter' | 'setsid',
    private readonly pass: (chunk: Buffer) => void
  ) {}

  write(c: Buffer): void {
    if (this.#head !== undefined) {
      this.#head = Buffer.concat([this.#head, c]);
      const prefix = `${this.launcher}: `;
      const n = Math.min(this.#head.length, prefix.length);
      if (this.#head.subarray(0, n).toString() === prefix.slice(0, n)) return;
      c = this.#head;
      this.#head = undefined;
    }
    this.pass(c);
  }

  /** At exit: the Status for the launcher's failure, or undefined after passing on what was held. */
  end(code: number, command: string[]): Status | undefined {
    const head = this.#head?.toString() ?? '';
    const failed = this.launcher === 'nsenter' ? 'nsenter: failed to execute ' : setsidExecFailure;
    if ((code === 126 || code === 127) && head.startsWith(failed)) {
      const reason = code === 127 ? 'executable file not found in $PATH' : 'permission denied';
      const status = exitCodeStatus(code, command);
      status.message = `${status.message}: exec: "${command[0]}": ${reason} (${head.trim()})`;
      return status;
    }
    if (this.#head?.length) this.pass(this.#head);
    this.#head = undefined;
    return undefined;
  }
}

/** Runs `command` in the container behind an exec session; the exit code travels in the Status. */
function runInSession(session: RemoteCommandSession, host: StreamingHost, t: Target, command: string[]): void {
  let child: ChildProcess;
  try {
    child = host.exec(t.ns, t.pod, t.container, command, { stdin: !!session.stdin });
  } catch (err) {
    void session.end(execErrorStatus((err as Error).message));
    return;
  }
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // the process may exit before reading all of stdin
    session.stdin?.pipe(child.stdin);
  }
  const stderr = new LaunchFailure('nsenter', (c) => session.stderr?.write(c));
  child.stderr!.on('data', (c: Buffer) => stderr.write(c));
  if (session.stdout) child.stdout!.pipe(session.stdout, { end: false });
  else child.stdout!.resume();
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.on('close', (code, signal) => {
    if (spawnError) return void session.end(execErrorStatus(spawnError.message));
    const exitCode = code ?? 128 + (signals[signal ?? ''] ?? 0);
    void session.end(stderr.end(exitCode, command) ?? exitCodeStatus(exitCode, command));
  });
  session.once('close', () => child.kill('SIGKILL'));
}

/**
 * Runs `command` on a pseudo-terminal behind a TTY exec session: stdin types into it, its output goes to stdout
 * (a terminal has no stderr), resizes reach it. Output waits for a slow client (the terminal is paused); what is
 * still paused in the terminal 200 ms after the process exited is lost (node-pty closes it then).
 */
function runOnTerminal(session: RemoteCommandSession, host: StreamingHost, t: Target, command: string[]): void {
  let term: Terminal;
  try {
    term = host.execTerminal(t.ns, t.pod, t.container, command, session.terminalSize);
  } catch (err) {
    void session.end(execErrorStatus((err as Error).message));
    return;
  }
  let exited = false;
  const stdout = session.stdout;
  const output = new LaunchFailure('setsid', (c) => {
    if (stdout && !stdout.write(c)) {
      term.pause();
      stdout.once('drain', () => term.resume());
    }
  });
  onTerminalData(term, (c) => output.write(c));
  session.stdin?.on('data', (d: Buffer) => term.write(d));
  session.stdin?.on('end', () => !exited && term.write('\x04')); // a terminal's end of input: Ctrl-D
  session.on('resize', (size) => {
    if (!exited && validSize(size)) term.resize(size.width, size.height);
  });
  onTerminalExit(term, (code) => {
    exited = true;
    void session.end(output.end(code, command) ?? exitCodeStatus(code, command));
  });
  // The client left: hang up, as a terminal closing does (node-pty then closes the terminal itself).
  session.once('close', () => !exited && term.kill('SIGHUP'));
}

/**
 * Joins an attach session to the container's shim: its output to stdout/stderr (both to stdout in a TTY session),
 * stdin and, for a TTY session, terminal sizes to it.
 */
function attachSession(session: RemoteCommandSession, host: StreamingHost, t: Target): void {
  let sock: Socket;
  try {
    sock = host.attach(t.ns, t.pod, t.container);
  } catch (err) {
    void session.end(execErrorStatus((err as Error).message));
    return;
  }
  sock.on('error', () => sock.destroy());
  session.stdin?.on('data', (d: Buffer) => sock.write(encodeAttachFrame(AttachFrame.Stdin, d)));
  if (session.options.tty) {
    const resize = (size: TerminalSize): boolean => sock.write(encodeResizeFrame(size));
    if (session.terminalSize) resize(session.terminalSize);
    session.on('resize', resize);
  }
  const stderr = session.stderr ?? (session.options.tty ? session.stdout : null);
  const frames = new AttachFrameDecoder((type, data) => {
    if (type === AttachFrame.Stdout) session.stdout?.write(data);
    else if (type === AttachFrame.Stderr) stderr?.write(data);
  });
  sock.on('data', (c: Buffer) => {
    if (!frames.write(c)) sock.destroy();
  });
  sock.once('close', () => void session.end());
  session.once('close', () => sock.destroy());
}

export interface StreamingOptions {
  idleTimeoutMs: number;
  log: Logger;
}

/**
 * Serves an exec or attach upgrade.
 * @throws StatusError before the upgrade (bad options, unknown or stopped container); the caller answers it
 */
export async function serveRemoteCommand(
  kind: 'exec' | 'attach',
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  host: StreamingHost,
  t: Target,
  query: URLSearchParams,
  o: StreamingOptions
): Promise<void> {
  const options = parseRemoteCommandOptions(query);
  if (kind === 'exec' && options.command.length === 0)
    throw newBadRequest('you must specify at least one command for the container');
  host.assertRunning(t.ns, t.pod, t.container);
  const session = await acceptRemoteCommand(req, socket, head, options, { idleTimeoutMs: o.idleTimeoutMs });
  if (!session) return;
  o.log.debug({ ...t, kind, transport: session.transport, protocol: session.protocol }, 'stream started');
  if (kind === 'attach') attachSession(session, host, t);
  else if (options.tty) runOnTerminal(session, host, t, options.command);
  else runInSession(session, host, t, options.command);
}

/** Serves a port-forward upgrade; a dial that fails ends only its own connection. */
export async function servePortForwardRequest(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  host: StreamingHost,
  ns: string,
  pod: string,
  query: URLSearchParams,
  o: StreamingOptions
): Promise<void> {
  const ports = parsePortForwardPorts(query);
  host.assertPod(ns, pod);
  await acceptPortForward(req, socket, head, {
    ports,
    idleTimeoutMs: o.idleTimeoutMs,
    dial: (port) =>
      new Promise((resolve, reject) => {
        const s = host.dialPort(ns, pod, port);
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      }),
    onDialError: (port, err) => o.log.debug({ ns, pod, port, err: err.message }, 'port-forward dial failed'),
  });
}

/** `/run`: the command's combined output, synchronously (legacy). */
export async function runCommand(host: StreamingHost, t: Target, cmd: string): Promise<{ code: number; out: Buffer }> {
  const command = cmd.split(' ').filter(Boolean);
  if (command.length === 0) throw newBadRequest('you must specify a command: ?cmd=…');
  const child = host.exec(t.ns, t.pod, t.container, command);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 137));
  });
  return { code, out: Buffer.concat(chunks) };
}
