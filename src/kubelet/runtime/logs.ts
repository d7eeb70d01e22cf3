// Container logs in the CRI format (`<RFC3339Nano> stdout|stderr F|P <line>`), one file per container instance
// at `<pod-logs-dir>/<ns>_<pod>_<uid>/<container>/<restartCount>.log`, rotated by size as the kubelet's
// container log manager does: the current file is renamed `<n>.log.<timestamp>` and the oldest rotated files
// beyond `containerLogMaxFiles` are removed.
import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type LogStream = 'stdout' | 'stderr';

/** containerd's maximum line length: a longer line is split into partial (`P`) entries. */
const maxLineBytes = 16 * 1024;

/** RFC3339Nano as Go prints it: nanoseconds with trailing zeros trimmed. */
export function rfc3339Nano(ms = performance.timeOrigin + performance.now()): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2024-01-01T00:00:00.123Z
  const nanos = String(Math.round((ms - whole) * 1e6)).padStart(6, '0');
  const frac = (iso.slice(20, 23) + nanos).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

export function podLogDir(podLogsDir: string, ns: string, name: string, uid: string): string {
  return join(podLogsDir, `${ns}_${name}_${uid}`);
}

export function containerLogPath(
  podLogsDir: string,
  ns: string,
  name: string,
  uid: string,
  container: string,
  attempt: number
): string {
  return join(podLogDir(podLogsDir, ns, name, uid), container, `${attempt}.log`);
}

/** The files of one container instance, oldest first: rotated files, then the current one. */
export function logFilesOf(logPath: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dirname(logPath));
  } catch {
    return [];
  }
  const base = basename(logPath);
  const rotated = names.filter((n) => n.startsWith(`${base}.`)).sort();
  return [...rotated.map((n) => join(dirname(logPath), n)), ...(names.includes(base) ? [logPath] : [])];
}

function rotationSuffix(d = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

export class CriLogWriter {
  #fd: number;
  #size: number;
  #lastStamp = '';
  #sameStamp = 0;
  readonly #partial: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  constructor(
    private readonly path: string,
    private readonly maxSize: number,
    private readonly maxFiles: number
  ) {
    this.#fd = openSync(path, 'a', 0o640);
    this.#size = statSync(path).size;
  }

  write(stream: LogStream, chunk: Buffer): void {
    let data = Buffer.concat([this.#partial[stream], chunk]);
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      this.#entry(stream, 'F', data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    while (data.length >= maxLineBytes) {
      this.#entry(stream, 'P', data.subarray(0, maxLineBytes));
      data = data.subarray(maxLineBytes);
    }
    this.#partial[stream] = Buffer.from(data);
  }

  /** Writes what is left of unterminated lines, at the end of the container's output. */
  close(): void {
    for (const s of ['stdout', 'stderr'] as const) if (this.#partial[s].length) this.#entry(s, 'F', this.#partial[s]);
    closeSync(this.#fd);
  }

  #entry(stream: LogStream, tag: 'F' | 'P', line: Buffer): void {
    const rec = Buffer.concat([Buffer.from(`${rfc3339Nano()} ${stream} ${tag} `), line, Buffer.from('\n')]);
    writeSync(this.#fd, rec);
    this.#size += rec.length;
    if (this.#size >= this.maxSize) this.#rotate();
  }

  #rotate(): void {
    closeSync(this.#fd);
    // Several rotations in one millisecond would share a name: number the later ones, zero-padded and counting
    // on from the last one (a deleted name is never reused), so the names still sort by age (`.123-0002` after
    // `.123-0001` and `.123`, before `.124`).
    const stamp = rotationSuffix();
    this.#sameStamp = stamp === this.#lastStamp ? this.#sameStamp + 1 : 0;
    this.#lastStamp = stamp;
    const named = (n: number): string => `${this.path}.${stamp}${n ? `-${String(n).padStart(4, '0')}` : ''}`;
    while (existsSync(named(this.#sameStamp))) this.#sameStamp++;
    const target = named(this.#sameStamp);
    renameSync(this.path, target);
    const files = logFilesOf(this.path); // rotated only, now
    for (const old of files.slice(0, Math.max(0, files.length - (this.maxFiles - 1)))) rmSync(old, { force: true });
    this.#fd = openSync(this.path, 'a', 0o640);
    this.#size = 0;
  }
}
