// Pseudo-terminals (node-pty) for containers with `tty: true` and for `exec` with a TTY. node-pty makes the
// terminal's process (bwrap, nsenter) a session leader with the terminal as its controlling terminal; the command
// inside takes the terminal over with `setsid --ctty` (sandbox.ts, withControllingTerminal).
import type * as NodePty from 'node-pty';
import type { TerminalSize } from '../../streams/index.js';

export type Terminal = NodePty.IPty;

// node-pty is a native module: loaded on demand, so the shims of containers without a TTY never load it (an
// import would, as the shim's bundle hoists it).
let nodePty: typeof NodePty | undefined;

/** Loads node-pty; spawnTerminal needs it done (Runtime.load does it for the kubelet, a TTY shim for itself). */
export async function loadTerminals(): Promise<void> {
  nodePty ??= await import('node-pty');
}

/** A size the terminal accepts (TIOCSWINSZ takes 16-bit values; 0 is not a size). */
export const validSize = (s: TerminalSize): boolean =>
  Number.isInteger(s.width) &&
  Number.isInteger(s.height) &&
  s.width > 0 &&
  s.height > 0 &&
  s.width < 65536 &&
  s.height < 65536;

/**
 * Runs `file` on a new pseudo-terminal. Output arrives as Buffers (`encoding: null`); `TERM` is `xterm` unless
 * `env` sets it, as containerd does for TTY processes. `exitCode`/`signal` arrive once the output is drained.
 */
export function spawnTerminal(
  file: string,
  args: string[],
  env: Record<string, string>,
  size?: TerminalSize
): Terminal {
  if (!nodePty) throw new Error('spawnTerminal before loadTerminals');
  const s = size && validSize(size) ? size : { width: 80, height: 24 };
  // node-pty sets PWD to cwd; the sandbox's own working directory is set by bwrap / nsenter -w.
  return nodePty.spawn(file, args, { env, cols: s.width, rows: s.height, cwd: '/', encoding: null });
}

/** The output of a terminal made by spawnTerminal (node-pty's type says string; with `encoding: null` it is bytes). */
export const onTerminalData = (t: Terminal, fn: (chunk: Buffer) => void): void =>
  void t.onData((d) => fn(d as unknown as Buffer));

/** The exit as a container exit code: the code, or 128 + the signal number. */
export const onTerminalExit = (t: Terminal, fn: (code: number) => void): void =>
  void t.onExit(({ exitCode, signal }) => fn(signal ? 128 + signal : exitCode));
