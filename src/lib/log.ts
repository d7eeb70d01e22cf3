// Structured logs (JSON lines, pino) with a readable default for terminals: when stderr is a TTY and
// HUBSPOKE_LOG_FORMAT is not `json`, each record is printed as `HH:MM:SS LEVEL component: msg key=value`.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const omitted = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s|"/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** Renders one pino JSON record for a human. Exported for its test. */
export function formatRecord(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = new Date(Number(rec.time)).toISOString().slice(11, 19);
  const level = (levelNames[Number(rec.level)] ?? String(rec.level)).padEnd(5);
  const comp = typeof rec.component === 'string' ? `${rec.component}: ` : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !omitted.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  return `${time} ${level} ${comp}${msg}${fields ? ' ' + fields : ''}\n`;
}

function readableStderr(): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) process.stderr.write(formatRecord(line));
    },
  };
}

export interface LogOptions {
  /** `json` or `text`. @default text when stderr is a TTY, else json */
  format?: 'json' | 'text';
  /** @default info, or HUBSPOKE_LOG_LEVEL */
  level?: string;
}

export function newLogger(opts: LogOptions = {}): Logger {
  const envFormat = process.env.HUBSPOKE_LOG_FORMAT;
  const format =
    opts.format ?? (envFormat === 'json' || envFormat === 'text' ? envFormat : process.stderr.isTTY ? 'text' : 'json');
  const level = opts.level ?? process.env.HUBSPOKE_LOG_LEVEL ?? 'info';
  const dest = format === 'text' ? readableStderr() : pino.destination({ fd: 2, sync: true });
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: ['*.key', '*.token', '*.password'], censor: '[redacted]' } },
    dest
  );
}

/** A logger that writes nothing, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
