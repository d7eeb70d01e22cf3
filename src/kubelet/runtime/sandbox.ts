// The bubblewrap command line of one container: its own pid (the command is pid 1, as in a container), ipc and
// uts namespaces with the pod's name as host name, the host's root read-only, fresh /dev, /proc, /tmp and /run,
// and the pod's volumes at their mountPaths.
//
// A mountPath that does not exist on the host (`/data`, `/etc/config`) needs a mount point, and the read-only
// host root cannot get one. So the directory that lacks it is replaced by a tmpfs holding read-only binds of
// everything the host has there: the host stays untouched and the container sees the host's files plus the
// mount point.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Mount } from './state.js';

export const bwrapPath = '/usr/bin/bwrap';
export const setsidPath = '/usr/bin/setsid';

/**
 * `command` in a session of its own with the terminal on its stdin as controlling terminal. A terminal's process
 * (bwrap, nsenter) leads a session outside the container's pid namespace; a shell there could not see the
 * foreground process group it started with (dash exits 2 trying to restore it), and a hang-up would reach only
 * the outer process. util-linux setsid execs the command, so it keeps its pid (1, in a container).
 */
export const withControllingTerminal = (command: string[]): string[] => [setsidPath, '--ctty', '--', ...command];

/** What setsid prints when it cannot execute the command (exit code 127: not found, 126: not executable). */
export const setsidExecFailure = 'setsid: failed to execute ';

/** Directories the sandbox gets fresh: nothing of the host shows there, so mount points are always possible. */
const fresh = ['/dev', '/proc', '/tmp', '/run'];
const isUnderFresh = (p: string): boolean => fresh.some((f) => p === f || p.startsWith(`${f}/`));

function lstat(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The path a container path names once the host's symlinks on its way are followed: `/var/run/x` is
 * `/run/x` here (bwrap cannot mount onto a symlink).
 */
export function resolveContainerPath(path: string): string {
  const norm = posix.normalize(path);
  let existing = norm;
  while (existing !== '/' && !lstat(existing)) existing = dirname(existing);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    real = existing;
  }
  return posix.join(real, posix.relative(existing, norm));
}

/** Host directories that must become a tmpfs of binds so that `path` can get a mount point. */
function dirsToExplode(path: string, out: Set<string>): void {
  if (isUnderFresh(path)) return;
  let cur = '/';
  for (const comp of path.split('/').filter(Boolean)) {
    const next = join(cur, comp);
    if (isUnderFresh(next)) return;
    const st = lstat(next);
    if (st?.isDirectory()) {
      cur = next;
      continue;
    }
    if (!st) out.add(cur);
    return;
  }
}

function populate(dir: string, exploded: Set<string>, args: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (dir === '/' && fresh.includes(p)) continue;
    const st = lstat(p);
    if (!st) continue;
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(p), p);
    else if (exploded.has(p)) {
      args.push('--dir', p);
      populate(p, exploded, args);
    } else if (st.isDirectory() || st.isFile()) args.push('--ro-bind', p, p);
  }
}

export interface SandboxSpec {
  hostname: string;
  mounts: Mount[];
  workingDir?: string;
  command: string[];
  /** Run on a pseudo-terminal (the shim's): the command gets it as controlling terminal. */
  tty?: boolean;
}

export function sandboxArgv(spec: SandboxSpec): string[] {
  const mounts = spec.mounts.map((m) => ({ ...m, containerPath: resolveContainerPath(m.containerPath) }));
  const exploded = new Set<string>();
  for (const m of mounts) dirsToExplode(m.containerPath, exploded);
  if (spec.workingDir) dirsToExplode(resolveContainerPath(spec.workingDir), exploded);
  const args = [bwrapPath];
  if (exploded.has('/')) populate('/', exploded, args);
  else args.push('--ro-bind', '/', '/');
  for (const d of [...exploded].sort()) {
    if (d === '/' || [...exploded].some((a) => a !== d && (a === '/' || d.startsWith(`${a}/`)))) continue;
    args.push('--tmpfs', d);
    populate(d, exploded, args);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run');
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', spec.hostname);
  // pid 1 of its namespace, like a container's first process: SIGTERM only works if it handles it. A new session
  // keeps it from the host's terminal (TIOCSTI); a TTY container has its own terminal and session instead. The
  // pid comes on fd 3, which a terminal's process cannot be given: the shim finds a TTY container's otherwise.
  args.push('--as-pid-1', '--die-with-parent', ...(spec.tty ? [] : ['--new-session', '--info-fd', '3']));
  for (const m of mounts) args.push(m.readOnly ? '--ro-bind' : '--bind', m.hostPath, m.containerPath);
  if (spec.workingDir) {
    const wd = resolveContainerPath(spec.workingDir);
    // Container runtimes create a missing working directory; here it lands in a tmpfs or a volume.
    if (!lstat(wd) && !mounts.some((m) => m.containerPath === wd)) args.push('--dir', wd);
    args.push('--chdir', wd);
  }
  args.push('--', ...(spec.tty ? withControllingTerminal(spec.command) : spec.command));
  return args;
}
