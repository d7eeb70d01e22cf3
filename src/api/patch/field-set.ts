// Sets of field paths, as structured-merge-diff's fieldpath.Set, with the FieldsV1 wire form managedFields use:
// `{"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}}}}`. A path is a list of path elements:
// `f:<field>`, `k:<json of the key fields>` (a keyed list item), `v:<json value>` (a set item), `i:<index>`.
// `.` marks the path itself as a member when it also has children.
import { isObject, type JsonObject } from './json.js';
import { PatchError } from './patch-error.js';

export type FieldPath = readonly string[];

// Upstream's PathElement order: field names, then keys, then values, then indexes.
const rank: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function compareElements(a: string, b: string): number {
  const d = (rank[a[0]!] ?? 4) - (rank[b[0]!] ?? 4);
  if (d) return d;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FieldSet {
  private member = false;
  private readonly children = new Map<string, FieldSet>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): this {
    const node = path.reduce<FieldSet>((n, pe) => {
      let child = n.children.get(pe);
      if (!child) n.children.set(pe, (child = new FieldSet()));
      return child;
    }, this);
    node.member = true;
    return this;
  }

  has(path: FieldPath): boolean {
    return this.node(path)?.member ?? false;
  }

  /** Whether the path or anything below it is a member. */
  hasAtOrBelow(path: FieldPath): boolean {
    const n = this.node(path);
    return n !== undefined && !n.isEmpty();
  }

  isEmpty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  /** Member paths, parents before children, in upstream's order. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (n: FieldSet, prefix: string[]): void => {
      if (n.member && prefix.length) out.push(prefix);
      for (const k of [...n.children.keys()].sort(compareElements)) walk(n.children.get(k)!, [...prefix, k]);
    };
    walk(this, []);
    return out;
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths(), ...other.paths()]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => other.has(p)));
  }

  /** Removes every member at or below a member of `prefixes` (fieldpath.Set.RecursiveDifference). */
  recursiveDifference(prefixes: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !p.some((_, i) => prefixes.has(p.slice(0, i + 1)))));
  }

  /** Members at or below a member of `prefixes`: the complement of recursiveDifference. */
  within(prefixes: FieldSet): FieldSet {
    return this.difference(this.recursiveDifference(prefixes));
  }

  /** Members that have no member below them (fieldpath.Set.Leaves): the paths a conflict names. */
  leaves(): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !this.node(p)!.hasChildMembers()));
  }

  toFieldsV1(): JsonObject {
    const encode = (n: FieldSet): JsonObject => {
      const out: JsonObject = {};
      if (n.member && n.children.size) out['.'] = {};
      for (const k of [...n.children.keys()].sort(compareElements)) {
        const c = n.children.get(k)!;
        if (!c.isEmpty()) out[k] = encode(c);
      }
      return out;
    };
    return encode(this);
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const s = new FieldSet();
    const decode = (v: unknown, path: string[]): void => {
      if (!isObject(v)) throw new PatchError(`invalid FieldsV1 at ${JSON.stringify(path)}: expected an object`, 400);
      const keys = Object.keys(v);
      if (path.length && (keys.length === 0 || '.' in v)) s.insert(path);
      for (const k of keys) {
        if (k === '.') continue;
        if (!/^[fkvi]:/.test(k)) throw new PatchError(`invalid FieldsV1 path element ${JSON.stringify(k)}`, 400);
        decode(v[k], [...path, k]);
      }
    };
    decode(fields, []);
    return s;
  }

  private node(path: FieldPath): FieldSet | undefined {
    return path.reduce<FieldSet | undefined>((n, pe) => n?.children.get(pe), this);
  }

  private hasChildMembers(): boolean {
    for (const c of this.children.values()) if (!c.isEmpty()) return true;
    return false;
  }
}

/** `.spec.containers[name="c"].image`, as upstream's fieldpath.Path.String() prints a path in conflict messages. */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k':
          return `[${Object.entries(JSON.parse(body) as JsonObject)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`;
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}
