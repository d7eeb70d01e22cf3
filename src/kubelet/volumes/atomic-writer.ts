// Upstream's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files live in a timestamped directory
// `..<time>`; `..data` is a symlink to it and each visible top-level entry is a symlink through `..data`. An
// update writes a new directory and swaps `..data` with one rename, so a reader sees the old payload or the
// new one, never a mix.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileProjection {
  data: Buffer;
  mode: number;
}

const dataDirName = '..data';

function tsDirName(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomBytes(5).toString('hex')}`;
}

/** Rejects paths that would escape the volume, as upstream's validatePath does. */
export function validatePayloadPath(p: string): string | undefined {
  if (!p) return 'the path is empty';
  if (p.startsWith('/')) return `${p}: must be a relative path`;
  if (p.split('/').some((c) => c === '..')) return `${p}: must not contain '..'`;
  if (p.startsWith('..')) return `${p}: must not start with '..'`;
  return undefined;
}

async function same(dir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  for (const [p, f] of payload) {
    try {
      const st = await lstat(join(dir, p));
      if ((st.mode & 0o777) !== f.mode || !(await readFile(join(dir, p))).equals(f.data)) return false;
    } catch {
      return false;
    }
  }
  const count = async (d: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(d, { withFileTypes: true })) n += e.isDirectory() ? await count(join(d, e.name)) : 1;
    return n;
  };
  return (await count(dir)) === payload.size;
}

/** Writes `payload` (path → content and mode) into `target`; returns whether anything changed. */
export async function writeAtomically(target: string, payload: Map<string, FileProjection>): Promise<boolean> {
  for (const p of payload.keys()) {
    const bad = validatePayloadPath(p);
    if (bad) throw new Error(`invalid path ${bad}`);
  }
  await mkdir(target, { recursive: true, mode: 0o755 });
  const dataLink = join(target, dataDirName);
  let oldTs: string | undefined;
  try {
    oldTs = await readlink(dataLink);
  } catch {
    oldTs = undefined;
  }
  if (oldTs && (await same(join(target, oldTs), payload))) return false;

  const ts = tsDirName();
  const tsDir = join(target, ts);
  await mkdir(tsDir, { mode: 0o755 });
  for (const [p, f] of payload) {
    const file = join(tsDir, p);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, f.data, { mode: f.mode });
    await chmod(file, f.mode); // the umask must not narrow what the pod spec asked for
  }
  const tmpLink = join(target, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(ts, tmpLink);
  await rename(tmpLink, dataLink);

  const visible = new Set([...payload.keys()].map((p) => p.split('/')[0]!));
  for (const name of visible) {
    const link = join(target, name);
    try {
      await lstat(link);
    } catch {
      await symlink(join(dataDirName, name), link);
    }
  }
  for (const name of await readdir(target)) {
    if (name.startsWith('..')) continue;
    if (!visible.has(name)) await rm(join(target, name), { recursive: true, force: true });
  }
  if (oldTs) await rm(join(target, oldTs), { recursive: true, force: true });
  return true;
}
