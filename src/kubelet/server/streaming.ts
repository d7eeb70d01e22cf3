// `/exec`, `/attach`, `/portForward` and `/run` (streaming.md §1.4): the kubelet terminates the protocols itself
// (SPDY v4 and WebSocket v5 for exec/attach; SPDY, the WebSocket SPDY tunnel and legacy WebSocket for
// port-forward — all from src/streams) and joins them to the runtime's processes and the pod's ports. The pod and
// container are checked before the upgrade is accepted, so an unknown one is a plain 404/400 Status.
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
} from '../../streams/index.js';

/** What the streaming handlers need of the kubelet (Kubelet implements it). */
export interface StreamingHost {
  /** @throws StatusError 404 unknown pod or container, 400 not running */
  assertRunning(ns: string, pod: string, container: string): void;
  /** @throws StatusError 404 unknown pod */
  assertPod(ns: string, pod: string): void;
  exec(ns: string, pod: string, container: string, command: string[], opts?: { stdin?: boolean }): ChildProcess;
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
 * nsenter's own failure to run the program (`nsenter: failed to execute foo: No such file or directory`, exit 127;
 * 126 when not executable) comes before anything the program could write; it goes on the error channel instead.
 */
function execFailure(stderrHead: string, code: number | null, command: string[]): Status | undefined {
  if ((code !== 126 && code !== 127) || !stderrHead.startsWith('nsenter: failed to execute ')) return undefined;
  const reason = code === 127 ? 'executable file not found in $PATH' : 'permission denied';
  const status = exitCodeStatus(code, command);
  status.message = `${status.message}: exec: "${command[0]}": ${reason} (${stderrHead.trim()})`;
  return status;
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
  // No pseudo-terminal yet: a TTY session gets stderr on its one output.
  const errOut = session.stderr ?? (session.options.tty ? session.stdout : null);
  // Held while it may still be nsenter's complaint (it starts with `nsenter: `); undefined once passed on.
  let head: Buffer | undefined = Buffer.alloc(0);
  const prefix = 'nsenter: ';
  child.stderr!.on('data', (c: Buffer) => {
    if (head !== undefined) {
      head = Buffer.concat([head, c]);
      const n = Math.min(head.length, prefix.length);
      if (head.subarray(0, n).toString() === prefix.slice(0, n)) return;
      c = head;
      head = undefined;
    }
    errOut?.write(c);
  });
  if (session.stdout) child.stdout!.pipe(session.stdout, { end: false });
  else child.stdout!.resume();
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.on('close', (code, signal) => {
    if (spawnError) return void session.end(execErrorStatus(spawnError.message));
    const failure = head !== undefined ? execFailure(head.toString(), code, command) : undefined;
    if (head?.length && !failure) errOut?.write(head);
    void session.end(failure ?? exitCodeStatus(code ?? 128 + (signals[signal ?? ''] ?? 0), command));
  });
  session.once('close', () => child.kill('SIGKILL'));
}

/** Joins an attach session to the runtime's attach socket (frames: stream byte, u32 length, data). */
function attachSession(session: RemoteCommandSession, host: StreamingHost, t: Target): void {
  let sock: Socket;
  try {
    sock = host.attach(t.ns, t.pod, t.container);
  } catch (err) {
    void session.end(execErrorStatus((err as Error).message));
    return;
  }
  sock.on('error', () => sock.destroy());
  if (session.stdin) session.stdin.on('data', (d: Buffer) => sock.write(d));
  let buf = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const out = buf[0] === 1 ? session.stdout : (session.stderr ?? (session.options.tty ? session.stdout : null));
      out?.write(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
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
  if (kind === 'exec') runInSession(session, host, t, options.command);
  else attachSession(session, host, t);
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
