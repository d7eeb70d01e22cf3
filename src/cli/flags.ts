// Flag parsing on node:util parseArgs with kube-style help; every flag error is reported at once.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string | boolean;
  /** Repeatable (`--group a --group b`): the value is every occurrence, in order. */
  multiple?: boolean;
}

export type FlagValues<T extends Record<string, FlagSpec>> = {
  [K in keyof T]: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K]['multiple'] extends true
      ? string[]
      : string | undefined;
};

export function parseFlags<T extends Record<string, FlagSpec>>(
  argv: string[],
  spec: T,
  usageLine: string
): FlagValues<T> {
  return parseCommandLine(argv, spec, usageLine, false).flags;
}

/** Flags and the positional arguments among them (`hubspoke token delete <id>`). */
export function parseCommandLine<T extends Record<string, FlagSpec>>(
  argv: string[],
  spec: T,
  usageLine: string,
  allowPositionals = true
): { flags: FlagValues<T>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  // Node 20's parseArgs rejects `multiple: undefined`: only repeatable flags carry the key.
  for (const [k, v] of Object.entries(spec))
    options[k] = v.multiple ? { type: v.type, multiple: true } : { type: v.type };
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true }));
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
  for (const [k, v] of Object.entries(spec)) out[k] = values[k] ?? (v.multiple ? [] : v.default);
  return { flags: out as never, positionals };
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

/** Parses a kube-style boolean given as a value (`--anonymous-auth=false`), naming the flag when it is not one. */
export function boolFlag(name: string, v: string | undefined, errs: string[]): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  errs.push(`--${name}: "${v}" is not true or false`);
  return undefined;
}
