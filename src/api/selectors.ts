// Label and field selectors, parsed as apimachinery's labels.Parse / fields.ParseSelector. A malformed
// selector is a 400 that names the problem, never a silent match-all.
import { newBadRequest } from './errors.js';

type Op = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export interface Selector {
  readonly requirements: readonly Requirement[];
  matches(fields: Readonly<Record<string, string>>): boolean;
  isEmpty(): boolean;
}

function makeSelector(requirements: Requirement[]): Selector {
  return {
    requirements,
    isEmpty: () => requirements.length === 0,
    matches(fields) {
      return requirements.every((r) => {
        const has = Object.prototype.hasOwnProperty.call(fields, r.key);
        const v = has ? fields[r.key] : undefined;
        switch (r.op) {
          case 'exists':
            return has;
          case '!':
            return !has;
          case '=':
          case 'in':
            return has && r.values.includes(v!);
          case '!=':
          case 'notin':
            return !has || !r.values.includes(v!);
          case 'gt':
            return has && Number(v) > Number(r.values[0]);
          case 'lt':
            return has && Number(v) < Number(r.values[0]);
        }
        return false;
      });
    },
  };
}

export const everything: Selector = makeSelector([]);

/** Splits on commas that are not inside parentheses (`a in (x,y),b`). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkLabel(key: string, values: string[], raw: string): void {
  if (!labelKey.test(key) || key.length > 316)
    throw newBadRequest(`unable to parse requirement: invalid label key "${key}" in selector "${raw}"`);
  for (const v of values)
    if (!labelValue.test(v) || v.length > 63)
      throw newBadRequest(`unable to parse requirement: invalid label value: "${v}" in selector "${raw}"`);
}

/** Parses a label selector (`app=web,tier!=db,env in (a,b),!legacy,release`). */
export function parseLabelSelector(raw: string | null | undefined): Selector {
  if (!raw) return everything;
  const reqs: Requirement[] = [];
  for (const term of splitTerms(raw)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      checkLabel(m[1]!, values, raw);
      reqs.push({ key: m[1]!, op: m[2] as Op, values });
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*([^=!<>\s]*)$/.exec(term))) {
      const op = m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : '=';
      checkLabel(m[1]!, op === 'gt' || op === 'lt' ? [] : [m[3]!], raw);
      reqs.push({ key: m[1]!, op, values: [m[3]!] });
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      checkLabel(m[1]!, [], raw);
      reqs.push({ key: m[1]!, op: '!', values: [] });
    } else if (/^[^=!<>\s(),]+$/.test(term)) {
      checkLabel(term, [], raw);
      reqs.push({ key: term, op: 'exists', values: [] });
    } else {
      throw newBadRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return makeSelector(reqs);
}

/**
 * Parses a field selector (`metadata.name=x,status.phase!=Running`); only the fields in `allowed` may be used
 * (any field when it is not given: the authorizers read selectors before the handler checks the fields).
 */
export function parseFieldSelector(raw: string | null | undefined, allowed?: ReadonlySet<string>): Selector {
  if (!raw) return everything;
  const reqs: Requirement[] = [];
  for (const term of splitTerms(raw)) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw newBadRequest(`invalid selector: '${raw}'; can't understand '${term}'`);
    const key = m[1]!.trim();
    if (allowed && !allowed.has(key)) throw newBadRequest(`field label not supported: ${key}`);
    reqs.push({ key, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!.trim()] });
  }
  return makeSelector(reqs);
}
