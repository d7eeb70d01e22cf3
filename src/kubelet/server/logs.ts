// `/containerLogs`: the CRI log files of one container instance read back as kubectl sees them (streaming.md §1.3):
// the `<RFC3339Nano> <stream> <F|P> ` prefix stripped (partial entries joined), optionally replaced by the
// timestamp; sinceTime/sinceSeconds, tailLines and limitBytes applied; with `follow` the current file is polled
// for new entries (and reopened when rotated) until the container exits or the client leaves.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { newBadRequest, StatusError } from '../../api/errors.js';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceMs?: number;
  tailLines?: number;
  limitBytes?: number;
}

/**
 * PodLogOptions from the query (`tail` is the legacy alias of tailLines).
 * @throws StatusError 400 for a malformed or out-of-range value
 */
export function parseLogOptions(q: URLSearchParams, now = Date.now()): LogOptions {
  const bool = (k: string): boolean => {
    const v = q.get(k);
    if (v === null || v === 'false' || v === '0') return false;
    if (v === '' || v === 'true' || v === '1') return true;
    throw newBadRequest(`${k}: "${v}" is not a boolean`);
  };
  const int = (k: string, min: number): number | undefined => {
    const v = q.get(k);
    if (v === null || (k === 'tail' && v === 'all')) return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min) throw new StatusError(422, 'Invalid', `${k}: "${v}" is invalid`);
    return Number(v);
  };
  const sinceSeconds = int('sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== null)
    throw new StatusError(422, 'Invalid', 'at most one of sinceTime or sinceSeconds may be specified');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  if (sinceTime !== null) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw newBadRequest(`sinceTime: "${sinceTime}" is not an RFC3339 time`);
  }
  return {
    follow: bool('follow'),
    previous: bool('previous'),
    timestamps: bool('timestamps'),
    sinceMs,
    tailLines: int('tailLines', 0) ?? int('tail', 0),
    limitBytes: int('limitBytes', 1),
  };
}

interface Entry {
  time: string;
  ms: number;
  /** The line with its newline (a whole entry after partials are joined). */
  line: Buffer;
}

/** Cuts CRI records into entries; `P` records are held until their `F`. */
class CriParser {
  #rest = Buffer.alloc(0);
  #partial: Buffer[] = [];

  push(chunk: Buffer): Entry[] {
    const out: Entry[] = [];
    let data = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      const rec = data.subarray(0, nl);
      data = data.subarray(nl + 1);
      const e = this.#record(rec);
      if (e) out.push(e);
    }
    this.#rest = Buffer.from(data);
    return out;
  }

  #record(rec: Buffer): Entry | undefined {
    // <time> <stream> <tag> <content>
    const s1 = rec.indexOf(0x20);
    const s2 = rec.indexOf(0x20, s1 + 1);
    const s3 = rec.indexOf(0x20, s2 + 1);
    if (s1 < 0 || s2 < 0 || s3 < 0) return undefined;
    const time = rec.subarray(0, s1).toString();
    const tag = rec.subarray(s2 + 1, s3).toString();
    this.#partial.push(rec.subarray(s3 + 1));
    if (tag === 'P') return undefined;
    const line = Buffer.concat([...this.#partial, Buffer.from('\n')]);
    this.#partial = [];
    return { time, ms: Date.parse(time), line };
  }
}

/** Writes log entries with the options' filters; write() returns false once limitBytes is reached. */
class LogWriter {
  #written = 0;
  constructor(
    private readonly out: Writable,
    private readonly o: LogOptions
  ) {}

  write(entries: Entry[]): boolean {
    for (const e of entries) {
      if (this.o.sinceMs !== undefined && !(e.ms >= this.o.sinceMs)) continue;
      const bytes = this.o.timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.line]) : e.line;
      if (this.o.limitBytes !== undefined) {
        const left = this.o.limitBytes - this.#written;
        if (bytes.length >= left) {
          this.out.write(bytes.subarray(0, left));
          this.#written = this.o.limitBytes;
          return false;
        }
      }
      this.#written += bytes.length;
      this.out.write(bytes);
    }
    return true;
  }
}

async function readAll(path: string, parser: CriParser): Promise<{ entries: Entry[]; size: number; ino: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return { entries: [], size: 0, ino: -1 };
  }
  try {
    const st = await fh.stat();
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return { entries: parser.push(buf.subarray(0, bytesRead)), size: bytesRead, ino: st.ino };
  } finally {
    await fh.close();
  }
}

export interface LogSource {
  /** The instance's files, oldest first; the last is the one being written. */
  files: string[];
  /** Whether the container is still running (follow ends when it is not). */
  running: () => boolean;
}

/** Streams a container's log to `out` as the options say; resolves when done (or the client left: `signal`). */
export async function streamContainerLog(
  src: LogSource,
  o: LogOptions,
  out: Writable,
  signal: AbortSignal
): Promise<void> {
  const parser = new CriParser();
  const writer = new LogWriter(out, o);
  let entries: Entry[] = [];
  let last = { size: 0, ino: -1 };
  for (const [i, f] of src.files.entries()) {
    const r = await readAll(f, parser);
    entries.push(...r.entries);
    if (i === src.files.length - 1) last = r;
  }
  if (o.tailLines !== undefined) entries = o.tailLines === 0 ? [] : entries.slice(-o.tailLines);
  if (!writer.write(entries) || !o.follow) return;
  const current = src.files[src.files.length - 1];
  if (!current) return;
  let offset = last.size;
  let ino = last.ino;
  // Poll: a rename (rotation) shows as a new inode at the path; what was left in the old file is lost only if
  // more than one rotation happens within one interval.
  for (let stopping = false; !signal.aborted;) {
    const st = await stat(current).catch(() => undefined);
    if (st && st.ino !== ino) {
      ino = st.ino;
      offset = 0;
    }
    if (st && st.size > offset) {
      const fh = await open(current, 'r');
      try {
        const buf = Buffer.alloc(st.size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        if (!writer.write(parser.push(buf.subarray(0, bytesRead)))) return;
      } finally {
        await fh.close();
      }
      continue;
    }
    if (stopping) return;
    // One more read after the container stopped, for what it wrote last.
    if (!src.running()) stopping = true;
    else await new Promise((r) => setTimeout(r, 100));
  }
}
