// Strategic merge patch (application/strategic-merge-patch+json), the semantics of upstream's
// k8s.io/apimachinery/pkg/util/strategicpatch StrategicMergeMapPatch: a JSON merge patch whose lists merge by key
// where the schema says so, plus the directives kubectl sends. Only applying a patch is implemented; kubectl
// computes patches on the client.
//
// Deliberate differences from upstream, all where upstream leaks directives or nonsense into the object:
// a value added where the original has nothing is merged into an empty value (so its directives and nulls are
// processed, not stored); `$deleteFromPrimitiveList` on an absent list deletes nothing; `$patch: merge` in a map
// is accepted as the explicit default; `$setElementOrder` on a field that is not a merging list is ignored.
import { clone, isObject, kindOf, type JsonObject, type JsonValue } from './json.js';
import type { PatchField, PatchSchema } from './merge-keys.js';
import { PatchError, show } from './patch-error.js';

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

/** Applies `patch` to `original` (neither is modified) and returns the patched object. Throws PatchError. */
export function strategicMergePatch(original: object, patch: object, schema: PatchSchema): JsonObject {
  if (!isObject(original) || !isObject(patch)) throw new PatchError('invalid JSON document', 400);
  // Merging works in place, as upstream's does; the copies keep the caller's objects intact.
  return mergeMap(clone(original), clone(patch), schema);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  const directive = patch[directiveMarker];
  if (directive !== undefined) {
    delete patch[directiveMarker];
    if (directive === 'replace') return mergeMap({}, patch, schema);
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw new PatchError(`unknown patch type: ${show(directive)} in map: ${show(patch)}`);
  }
  applyRetainKeys(original, patch);
  applySetElementOrders(original, patch, schema);

  for (const [rawKey, patchValue] of Object.entries(patch)) {
    if (rawKey.startsWith(deleteFromPrimitiveListPrefix)) {
      deleteFromPrimitiveList(original, extractKey(rawKey, deleteFromPrimitiveListPrefix), patchValue);
      continue;
    }
    const field = schema?.[rawKey];
    if (patchValue === null) {
      delete original[rawKey];
      continue;
    }
    const value = original[rawKey];
    if (value === undefined || kindOf(value) !== kindOf(patchValue)) {
      original[rawKey] = fresh(patchValue, field);
    } else if (isObject(value) && isObject(patchValue)) {
      original[rawKey] = field?.patchStrategy === 'replace' ? patchValue : mergeMap(value, patchValue, field?.fields);
    } else if (Array.isArray(value) && Array.isArray(patchValue)) {
      original[rawKey] = field?.patchStrategy === 'merge' ? mergeSlice(value, patchValue, field) : patchValue;
    } else {
      original[rawKey] = patchValue;
    }
  }
  return original;
}

/** A patch value with nothing to merge into: merged into an empty value so its directives take effect. */
function fresh(value: JsonValue, field: PatchField | undefined): JsonValue {
  if (isObject(value)) return field?.patchStrategy === 'replace' ? value : mergeMap({}, value, field?.fields);
  if (Array.isArray(value) && field?.patchStrategy === 'merge') return mergeSlice([], value, field);
  return value;
}

/** `$setElementOrder/containers` → `containers`. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw new PatchError(
      prefix === deleteFromPrimitiveListPrefix
        ? 'invalid patch format of primitive list'
        : 'invalid patch format of setElementOrder list',
      400
    );
  }
  return key.slice(slash + 1);
}

/** `$retainKeys: [a, b]` clears every other field of the original; the patch may only set listed fields. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  const retain = patch[retainKeysDirective];
  if (retain === undefined) return;
  delete patch[retainKeysDirective];
  if (!Array.isArray(retain)) throw new PatchError('invalid patch format of retainKeys', 400);
  const keep = new Set(retain);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(deleteFromPrimitiveListPrefix) || key.startsWith(setElementOrderPrefix))
      continue;
    if (!keep.has(key)) {
      throw new PatchError(`invalid patch format of retainKeys: ${show(key)} is set but not in ${show(retain)}`, 400);
    }
  }
  for (const key of Object.keys(original)) if (!keep.has(key)) delete original[key];
}

function deleteFromPrimitiveList(original: JsonObject, key: string, toDelete: JsonValue): void {
  if (!Array.isArray(toDelete)) throw new PatchError('invalid patch format of primitive list', 400);
  const list = original[key];
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new PatchError(`expected a list for ${show(key)}, but received ${show(list)}`);
  const drop = new Set(toDelete);
  original[key] = list.filter((v) => !drop.has(v));
}

/**
 * `$setElementOrder/<field>` lists the merge keys (or primitives) in their final order. The field's patch list is
 * merged here, with the order: $setElementOrder, then the live list's order for items the directive omits.
 */
function applySetElementOrders(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(setElementOrderPrefix)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    const key = extractKey(directiveKey, setElementOrderPrefix);
    if (!Array.isArray(order)) throw new PatchError('invalid patch format of setElementOrder list', 400);
    const field = schema?.[key];
    if (field?.patchStrategy !== 'merge') continue;
    const live = listOrUndefined(original[key], key);
    const patchList = listOrUndefined(patch[key], key);
    const mergeKey = field.patchMergeKey;
    validateAgainstOrder(patchList ?? [], order, mergeKey);
    if (!live && !patchList) continue;
    const merged = mergeSlice(live ?? [], patchList ?? [], field);
    const [ordered, serverOnly] = partition(merged, order, mergeKey);
    original[key] = normalizeElementOrder(ordered, serverOnly, order, live ?? [], mergeKey);
    delete patch[key];
  }
}

function listOrUndefined(v: JsonValue | undefined, key: string): JsonValue[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new PatchError(`expected a list for ${show(key)}, but received ${show(v)}`);
  return v;
}

/** The relative order of the patch list's items must agree with $setElementOrder, and it must name them all. */
function validateAgainstOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string | undefined): void {
  const items = patchList.filter((p) => !(isObject(p) && directiveMarker in p));
  let p = 0;
  for (let s = 0; p < items.length && s < order.length; s++) {
    if (sameItem(items[p]!, order[s]!, mergeKey)) p++;
  }
  if (p < items.length) {
    throw new PatchError(
      `The order in patch list:\n${show(patchList)}\n doesn't match $setElementOrder list:\n${show(order)}`,
      400
    );
  }
}

function mergeKeyOf(item: JsonValue, mergeKey: string): JsonValue {
  if (!isObject(item)) throw new PatchError(`expected a map, but received ${show(item)}`);
  const v = item[mergeKey];
  if (v === undefined) throw new PatchError(`map: ${show(item)} does not contain declared merge key: ${mergeKey}`);
  return v;
}

function sameItem(a: JsonValue, b: JsonValue, mergeKey: string | undefined): boolean {
  return mergeKey ? mergeKeyOf(a, mergeKey) === mergeKeyOf(b, mergeKey) : a === b;
}

function indexIn(list: JsonValue[], item: JsonValue, mergeKey: string | undefined): number {
  if (!mergeKey) return list.indexOf(item);
  const key = isObject(item) ? item[mergeKey] : undefined;
  return list.findIndex((x) => isObject(x) && x[mergeKey] === key);
}

function mergeSlice(original: JsonValue[], patch: JsonValue[], field: PatchField): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  if (elementKind(original, patch) !== 'object') {
    const merged = [...new Set([...original, ...patch])];
    const [inPatch, serverOnly] = partition(merged, patch, undefined);
    return normalizeElementOrder(inPatch, serverOnly, patch, original, undefined);
  }
  const mergeKey = field.patchMergeKey;
  if (!mergeKey) throw new PatchError('cannot merge lists without merge key');
  const special = applySpecialElements(original, patch, mergeKey, field.fields);
  const merged = [...special.original];
  for (const item of special.patch) {
    const key = mergeKeyOf(item, mergeKey);
    const i = merged.findIndex((x) => isObject(x) && x[mergeKey] === key);
    const existing = merged[i];
    if (isObject(existing)) merged[i] = mergeMap(existing, item as JsonObject, field.fields);
    else merged.push(fresh(item, { fields: field.fields }));
  }
  const [inPatch, serverOnly] = partition(merged, special.patch, mergeKey);
  return normalizeElementOrder(inPatch, serverOnly, special.patch, special.original, mergeKey);
}

/** All items of both lists must have one type, and lists of lists are not allowed. */
function elementKind(...lists: JsonValue[][]): string {
  let kind: string | undefined;
  for (const v of lists.flat()) {
    const k = kindOf(v);
    if (k === 'array') throw new PatchError('lists of lists are not supported');
    if (kind !== undefined && k !== kind) throw new PatchError(`list element types are not identical: ${show(lists)}`);
    kind = k;
  }
  return kind ?? 'object';
}

/** Items carrying `$patch`: `delete` removes the live item with that key, `replace` makes the rest the list. */
function applySpecialElements(
  original: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
  itemSchema: PatchSchema | undefined
): { original: JsonValue[]; patch: JsonValue[] } {
  const rest: JsonValue[] = [];
  let replace = false;
  for (const item of patch) {
    const directive = isObject(item) ? item[directiveMarker] : undefined;
    if (directive === undefined) {
      rest.push(item);
    } else if (directive === 'delete') {
      const key = mergeKeyOf(item, mergeKey);
      original = original.filter((x) => !(isObject(x) && x[mergeKey] === key));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new PatchError('merging lists cannot yet be specified in the patch');
    } else {
      throw new PatchError(`unknown patch type: ${show(directive)} in map: ${show(item)}`);
    }
  }
  if (replace) return { original: rest.map((item) => fresh(item, { fields: itemSchema })), patch: [] };
  return { original, patch: rest };
}

/** Splits items into those present in `by` and the rest (server-only items). */
function partition(items: JsonValue[], by: JsonValue[], mergeKey: string | undefined): [JsonValue[], JsonValue[]] {
  const present: JsonValue[] = [];
  const absent: JsonValue[] = [];
  for (const item of items) {
    if (mergeKey) mergeKeyOf(item, mergeKey);
    (indexIn(by, item, mergeKey) >= 0 ? present : absent).push(item);
  }
  return [present, absent];
}

/**
 * Orders patch items by the patch (or $setElementOrder), server-only items by the live list, and interleaves the
 * two: a server-only item goes first only while it precedes the next patch item in the live list. So new items
 * land before the server-only items that follow them, as upstream's mergeSortedSlice does.
 */
function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string | undefined
): JsonValue[] {
  const byOrder = (list: JsonValue[], order: JsonValue[]): JsonValue[] => {
    const rank = (v: JsonValue): number => {
      const i = indexIn(order, v, mergeKey);
      return i < 0 ? Infinity : i;
    };
    return [...list].sort((a, b) => rank(a) - rank(b) || 0);
  };
  const right = byOrder(patchItems, patchOrder);
  const left = byOrder(serverOnly, serverOrder);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = indexIn(serverOrder, left[i]!, mergeKey);
      const ri = indexIn(serverOrder, right[j]!, mergeKey);
      out.push(li >= 0 && ri >= 0 && li < ri ? left[i++]! : right[j++]!);
    }
  }
  return out;
}
