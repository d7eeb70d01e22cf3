// hostPath volumes (upstream's pkg/volume/hostpath): a path of the node bound into the container as it is. The
// `type` checks run before the container starts, so a wrong path is a clear FailedMount, not a bwrap error.
import { mkdir, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { HostPathVolumeSource } from 'kubernetes-types/core/v1.js';

const typeChecks: Record<string, { what: string; is: (s: Stats) => boolean }> = {
  Directory: { what: 'a directory', is: (s) => s.isDirectory() },
  File: { what: 'a file', is: (s) => s.isFile() },
  Socket: { what: 'a socket', is: (s) => s.isSocket() },
  CharDevice: { what: 'a character device', is: (s) => s.isCharacterDevice() },
  BlockDevice: { what: 'a block device', is: (s) => s.isBlockDevice() },
};

/** Checks (or creates, for the `…OrCreate` types) the path; @returns the path to bind. @throws Error naming the problem */
export async function setUpHostPath(source: HostPathVolumeSource): Promise<string> {
  const { path, type = '' } = source;
  if (!path.startsWith('/')) throw new Error(`hostPath ${JSON.stringify(path)} is not an absolute path`);
  if (type === 'DirectoryOrCreate') await mkdir(path, { recursive: true, mode: 0o755 });
  else if (type === 'FileOrCreate') await (await open(path, 'a', 0o644)).close();
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new Error(`hostPath ${path} does not exist`);
  const check = typeChecks[type];
  if (check && !check.is(st)) throw new Error(`hostPath ${path} is not ${check.what} (type ${type})`);
  if (!check && !['', 'DirectoryOrCreate', 'FileOrCreate'].includes(type))
    throw new Error(`hostPath type ${JSON.stringify(type)} is not supported`);
  return path;
}
