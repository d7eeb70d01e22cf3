// The walks server-side apply makes over objects, as structured-merge-diff's typed package does with a schema:
// the set of fields a config sets (ToFieldSet), what changed between two versions (Compare), the merge of an
// applied config into the live object (Merge), and removing paths (RemoveItems). Lists are keyed (`map`), sets
// of primitives (`set`) or atomic, as the patch schema's listType says; unknown lists are atomic.
import { FieldSet, pathString, type FieldPath } from './field-set.js';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from './json.js';
import type { PatchField, PatchSchema } from './merge-keys.js';
import { PatchError, show } from './patch-error.js';

const isListed = (field: PatchField | undefined): field is PatchField & { listType: 'set' | 'map' } =>
  field?.listType === 'set' || field?.listType === 'map';

/** The field metadata of a list's items: only their own fields matter below them. */
const itemField = (field: PatchField): PatchField => (field.fields ? { fields: field.fields } : {});

/** The path element naming a list item: `k:{"name":"c"}` in a keyed list, `v:"x"` in a set. */
export function itemElement(item: JsonValue, field: PatchField): string {
  if (field.listType === 'set') {
    if (item === null || typeof item === 'object')
      throw new PatchError(`set items must be primitives, got ${show(item)}`);
    return `v:${JSON.stringify(item)}`;
  }
  if (!isObject(item)) throw new PatchError(`expected a map in an associative list, got ${show(item)}`);
  const key: JsonObject = {};
  for (const name of [...(field.listMapKeys ?? [])].sort()) {
    const v = item[name] ?? field.listMapKeyDefaults?.[name];
    if (v === undefined || v === null) {
      throw new PatchError(
        `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`
      );
    }
    key[name] = v;
  }
  return `k:${JSON.stringify(key)}`;
}

function elementOrUndefined(item: JsonValue, field: PatchField): string | undefined {
  try {
    return itemElement(item, field);
  } catch {
    return undefined;
  }
}

/** Items by path element; the first of duplicates wins, as live objects may hold them. */
function indexItems(list: JsonValue[], field: PatchField): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const item of list) {
    const pe = itemElement(item, field);
    if (!out.has(pe)) out.set(pe, item);
  }
  return out;
}

export interface AppliedFields {
  /** The fields the config sets: scalars, atomic lists, list items, empty maps and nulls. */
  set: FieldSet;
  /** Fields the config sets to null: the applier owns them and they are removed. */
  nulls: FieldSet;
}

/** structured-merge-diff's ToFieldSet. Duplicate list keys in a config are an error. */
export function toFieldSet(config: JsonObject, schema: PatchSchema): AppliedFields {
  const out: AppliedFields = { set: new FieldSet(), nulls: new FieldSet() };
  const walk = (v: JsonValue, field: PatchField | undefined, path: string[]): void => {
    if (v === null) {
      out.set.insert(path);
      out.nulls.insert(path);
    } else if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && path.length) out.set.insert(path);
      for (const k of keys) walk(v[k]!, field?.fields?.[k], [...path, `f:${k}`]);
    } else if (Array.isArray(v) && isListed(field)) {
      const seen = new Set<string>();
      for (const item of v) {
        const itemPath = [...path, itemElement(item, field)];
        if (seen.has(itemPath.at(-1)!)) throw new PatchError(`duplicate entries for key ${pathString(itemPath)}`);
        seen.add(itemPath.at(-1)!);
        out.set.insert(itemPath);
        if (isObject(item)) walk(item, itemField(field), itemPath);
      }
    } else {
      out.set.insert(path);
    }
  };
  walk(config, { fields: schema }, []);
  return out;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** structured-merge-diff's Compare: an added or removed value counts with everything below it. */
export function compare(before: JsonObject, after: JsonObject, schema: PatchSchema): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const all = (v: JsonValue, field: PatchField | undefined, path: string[], into: FieldSet): void => {
    into.insert(path);
    if (isObject(v)) {
      for (const [k, child] of Object.entries(v)) all(child, field?.fields?.[k], [...path, `f:${k}`], into);
    } else if (Array.isArray(v) && isListed(field)) {
      for (const item of v) all(item, itemField(field), [...path, itemElement(item, field)], into);
    }
  };
  const walk = (l: JsonValue | undefined, r: JsonValue | undefined, field: PatchField | undefined, path: string[]) => {
    if (l === undefined) {
      if (r !== undefined) all(r, field, path, c.added);
    } else if (r === undefined) {
      all(l, field, path, c.removed);
    } else if (isObject(l) && isObject(r)) {
      for (const k of new Set([...Object.keys(l), ...Object.keys(r)])) {
        walk(l[k], r[k], field?.fields?.[k], [...path, `f:${k}`]);
      }
    } else if (Array.isArray(l) && Array.isArray(r) && isListed(field)) {
      const li = indexItems(l, field);
      const ri = indexItems(r, field);
      for (const pe of new Set([...li.keys(), ...ri.keys()]))
        walk(li.get(pe), ri.get(pe), itemField(field), [...path, pe]);
    } else if (!deepEqual(l, r)) {
      c.modified.insert(path);
    }
  };
  walk(before, after, { fields: schema }, []);
  return c;
}

/**
 * Merges an applied config into the live object (neither is modified): maps merge, keyed lists and sets merge by
 * item, atomic lists and scalars take the config's value, and null removes the field.
 */
export function mergeApplied(live: JsonObject, config: JsonObject, schema: PatchSchema): JsonObject {
  return mergeValue(live, config, { fields: schema }) as JsonObject;
}

function mergeValue(l: JsonValue | undefined, r: JsonValue, field: PatchField | undefined): JsonValue | undefined {
  if (r === null) return undefined;
  if (isObject(r)) {
    const out: JsonObject = isObject(l) ? { ...l } : {};
    for (const [k, rv] of Object.entries(r)) {
      const merged = mergeValue(out[k], rv, field?.fields?.[k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(r) && isListed(field)) return mergeList(Array.isArray(l) ? l : [], r, field);
  return clone(r);
}

/**
 * Keyed-list merge with structured-merge-diff's order: live-only items keep their place, items the config names
 * come in the config's order, new ones after the shared item before them.
 */
function mergeList(l: JsonValue[], r: JsonValue[], field: PatchField): JsonValue[] {
  const lpe = l.map((item) => itemElement(item, field));
  const rpe = r.map((item) => itemElement(item, field));
  const live = indexItems(l, field);
  const inConfig = new Set(rpe);
  const shared = rpe.filter((pe) => live.has(pe));
  const done = new Set<string>();
  const out: JsonValue[] = [];
  let next = 0;
  const takeConfig = (ri: number): void => {
    const pe = rpe[ri]!;
    const merged = mergeValue(live.get(pe), r[ri]!, itemField(field));
    if (merged !== undefined) out.push(merged);
    done.add(pe);
    if (shared[next] === pe) next++;
  };
  let li = 0;
  let ri = 0;
  while (li < l.length || ri < r.length) {
    const pe = lpe[li];
    if (pe !== undefined && ri < r.length) {
      if (pe === rpe[ri]) {
        takeConfig(ri++);
        li++;
        continue;
      }
      // A shared item further down the config: it is emitted when the config reaches it.
      if (inConfig.has(pe) && shared[next] !== pe) {
        li++;
        continue;
      }
    }
    if (pe !== undefined && (!inConfig.has(pe) || done.has(pe) || ri >= r.length)) {
      if (!inConfig.has(pe)) out.push(l[li]!);
      li++;
      continue;
    }
    takeConfig(ri++);
  }
  return out;
}

/** The value at a path, or undefined. */
export function valueAt(root: JsonObject, path: FieldPath, schema: PatchSchema): JsonValue | undefined {
  let v: JsonValue | undefined = root;
  let field: PatchField | undefined = { fields: schema };
  for (const pe of path) {
    if (pe.startsWith('f:')) {
      const k = pe.slice(2);
      v = isObject(v) ? v[k] : undefined;
      field = field?.fields?.[k];
    } else {
      const list: PatchField | undefined = field;
      v = Array.isArray(v) && isListed(list) ? v.find((item) => elementOrUndefined(item, list) === pe) : undefined;
      field = list && itemField(list);
    }
    if (v === undefined) return undefined;
  }
  return v;
}

/** Removes the value at a path (a field or a list item); absent paths are ignored. */
export function removeAt(root: JsonObject, path: FieldPath, schema: PatchSchema): void {
  const last = path.at(-1);
  if (last === undefined) return;
  const parentPath = path.slice(0, -1);
  const parent = valueAt(root, parentPath, schema);
  if (last.startsWith('f:')) {
    if (isObject(parent)) delete parent[last.slice(2)];
    return;
  }
  const list = fieldAt(schema, parentPath);
  if (!Array.isArray(parent) || !isListed(list)) return;
  const i = parent.findIndex((item) => elementOrUndefined(item, list) === last);
  if (i >= 0) parent.splice(i, 1);
}

function fieldAt(schema: PatchSchema, path: FieldPath): PatchField | undefined {
  let field: PatchField | undefined = { fields: schema };
  for (const pe of path) field = pe.startsWith('f:') ? field?.fields?.[pe.slice(2)] : field && itemField(field);
  return field;
}
