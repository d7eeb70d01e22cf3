// Flag parsing on node:util parseArgs with kube-style help; every flag error is reported at once.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string | boolean;
}

export function parseFlags<T extends Record<string, FlagSpec>>(
  argv: string[],
  spec: T,
  usageLine: string
): { [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string | undefined } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [k, v] of Object.entries(spec)) options[k] = { type: v.type };
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new UsageError(`error: ${(err as Error).message}`);
  }
  if (values.help) {
    const lines = Object.entries(spec).map(
      ([k, v]) =>
        `      --${k}${v.type === 'string' ? ' string' : ''}\n          ${v.help}${v.default !== undefined ? ` (default ${JSON.stringify(v.default)})` : ''}`
    );
    process.stdout.write(`Usage:\n  ${usageLine}\n\nFlags:\n${lines.join('\n')}\n`);
    process.exit(0);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) out[k] = values[k] ?? v.default;
  return out as never;
}

/** Parses an integer flag, naming the flag when it is not one. */
export function intFlag(name: string, v: string | undefined, errs: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    errs.push(`--${name}: "${v}" is not a non-negative integer`);
    return undefined;
  }
  return Number(v);
}

/** Parses a Go-style duration (`60s`, `5m`, `1h30m`) into milliseconds. */
export function durationFlag(name: string, v: string | undefined, errs: string[]): number | undefined {
  if (v === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0];
  }
  if (consumed !== v || v === '') {
    errs.push(`--${name}: "${v}" is not a duration (e.g. 60s, 5m)`);
    return undefined;
  }
  return total;
}
