// Server-side apply and field management (structured-merge-diff's merge.Updater, as upstream's apiserver wires it):
// every write records which manager set which fields in metadata.managedFields; an apply owns exactly the fields
// of its config, drops the fields it stops applying, and conflicts with other managers whose values it changes.
//
// Simplifications: no last-applied-configuration migration, no cap on Update managers, no version conversion
// (sets recorded at another apiVersion are compared as they are). A dropped field is kept while any manager,
// including the applier, owns it or anything below it, and a kept keyed item keeps its key fields.
// `time` moves only when the write changed the object (or the entry is new), so a repeated apply is a no-op.
import { StatusError } from '../errors.js';
import { FieldSet, type FieldPath } from './field-set.js';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from './json.js';
import {
  decodeManagedFields,
  encodeManagedFields,
  managerLabel,
  newApplyConflicts,
  sameManager,
  type ApplyConflict,
  type ManagedFieldsEntry,
  type Manager,
} from './managed-fields.js';
import type { PatchSchema } from './merge-keys.js';
import { PatchError } from './patch-error.js';
import { compare, mergeApplied, removeAt, toFieldSet, valueAt } from './typed-value.js';

// Fields nobody owns (upstream's stripMeta manager), and the other half of the object for a subresource
// (a strategy's reset fields): the main resource does not own status, the status subresource owns nothing else.
const metaIgnored = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
];
const stripped: FieldPath[] = [['f:apiVersion'], ['f:kind'], ...metaIgnored.map((f) => ['f:metadata', `f:${f}`])];

function ignoredFields(subresource: string | undefined): FieldSet {
  return FieldSet.of([...stripped, subresource === 'status' ? ['f:spec'] : ['f:status']]);
}

export interface ApplyOptions {
  /** The stored object, or null when the apply creates it. */
  live: object | null;
  /** The apply configuration (application/apply-patch+yaml, parsed). */
  applied: object;
  /** The fieldManager query parameter. */
  manager: string;
  /** The force query parameter: take conflicting fields from their managers. */
  force: boolean;
  schema: PatchSchema;
  /** RFC 3339 time recorded in the manager's entry. */
  now: string;
  /** The version the request addresses; defaults to the config's apiVersion. */
  apiVersion?: string;
  subresource?: string;
}

export type ApplyResult =
  | { object: JsonObject; changed: boolean; conflicts?: undefined }
  | { object?: undefined; changed?: undefined; conflicts: ApplyConflict[] };

/**
 * Applies a configuration. Returns the new object with managedFields recorded (`changed` is false when the
 * result equals the live object, so no write is needed), or the conflicts that stop it without `force`.
 */
export function applyPatch(opts: ApplyOptions): ApplyResult {
  const { manager, schema, subresource } = opts;
  const applied = applyConfig(opts.applied);
  const apiVersion = opts.apiVersion ?? (applied.apiVersion as string);
  const live = opts.live === null ? null : liveObject(opts.live);
  const managers = live ? decodeManagedFields(metadataOf(live)?.managedFields) : [];
  const before = live ? withoutManagedFields(live) : {};
  const ignored = ignoredFields(subresource);

  const fields = toFieldSet(applied, schema);
  const owned = fields.set.recursiveDifference(ignored);
  const id = { manager, operation: 'Apply' as const, apiVersion, ...(subresource && { subresource }) };
  const self = managers.find((m) => sameManager(m, id));
  const others = managers.filter((m) => m !== self);

  const after = mergeApplied(before, applied, schema);
  if (self) {
    const keep = others.reduce((s, m) => s.union(m.set), owned);
    prune(after, self.set.difference(owned), keep, schema);
  }

  const diff = compare(before, after, schema);
  const removed = diff.removed.recursiveDifference(ignored);
  // Setting a field to null changes it as much as a new value does.
  const touched = diff.added.union(diff.modified).union(removed.within(fields.nulls)).recursiveDifference(ignored);
  const conflicts = others.flatMap((m) => newApplyConflicts(m, m.set.intersection(touched).leaves().paths()));
  if (conflicts.length && !opts.force) return { conflicts: sortConflicts(conflicts) };
  for (const m of others) m.set = m.set.difference(touched).difference(removed);

  const objectChanged = !deepEqual(before, after);
  const entry: Manager = self ?? { ...id, set: owned };
  if (!self) managers.push(entry);
  entry.set = owned;
  entry.apiVersion = apiVersion;
  if (objectChanged || !self) entry.time = opts.now;
  setManagedFields(after, managers);
  return { object: after, changed: !live || !deepEqual(live, after) };
}

export interface UpdateOptions {
  /** The stored object, or null on create. */
  live: object | null;
  /** The object about to be stored (after create, update or a non-apply patch). */
  updated: object;
  manager: string;
  /** Every write that is not an apply records as Update. */
  operation?: 'Update';
  schema: PatchSchema;
  now: string;
  /** The version the request addresses; defaults to the object's apiVersion. */
  apiVersion?: string;
  subresource?: string;
}

/**
 * The managedFields an ordinary write (operation Update) leaves on the updated object: the fields it added or
 * changed move to `manager`, removed fields leave every manager. managedFields sent in the request are kept when
 * they decode (clients may rewrite them; `[{}]` clears them), otherwise the live ones are. Neither object is
 * modified; an empty list means the object has no managedFields. As upstream's UpdateNoErrors, an object the
 * tracking cannot walk (a keyed list item without its key) loses its managedFields rather than failing the write.
 */
export function updateManagedFields(opts: UpdateOptions): ManagedFieldsEntry[] {
  try {
    return trackUpdate(opts);
  } catch (err) {
    if (err instanceof PatchError) return [];
    throw err;
  }
}

function trackUpdate(opts: UpdateOptions): ManagedFieldsEntry[] {
  const updated = liveObject(opts.updated);
  const live = opts.live === null ? null : liveObject(opts.live);
  const apiVersion = opts.apiVersion ?? (typeof updated.apiVersion === 'string' ? updated.apiVersion : '');
  const after = withoutManagedFields(updated);
  // On create, compare with an empty object of the kind: Go encodes its struct fields (metadata, spec) as {}.
  const before = live
    ? withoutManagedFields(live)
    : Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (isObject(v) ? [[k, {}]] : [])));
  const managers = sentManagers(updated) ?? (live ? decodeManagedFields(metadataOf(live)?.managedFields) : []);

  const ignored = ignoredFields(opts.subresource);
  const diff = compare(before, after, opts.schema);
  const touched = diff.added.union(diff.modified).recursiveDifference(ignored);
  const removed = diff.removed.recursiveDifference(ignored);
  for (const m of managers) m.set = m.set.difference(touched).difference(removed);
  if (!touched.isEmpty()) {
    const id = {
      manager: opts.manager,
      operation: 'Update' as const,
      apiVersion,
      ...(opts.subresource && { subresource: opts.subresource }),
    };
    let self = managers.find((m) => sameManager(m, id));
    if (!self) managers.push((self = { ...id, set: new FieldSet() }));
    self.set = self.set.union(touched);
    self.time = opts.now;
  }
  return encodeManagedFields(managers);
}

/** Upstream's 409: `Apply failed with 1 conflict: conflict with "kubectl" using v1: .spec.replicas`. */
export function applyConflictMessage(conflicts: ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only)
    return `Apply failed with 1 conflict: conflict with ${managerLabel(only)}: ${only.field}`;
  const lines: string[] = [];
  let label = '';
  for (const c of sortConflicts(conflicts)) {
    if (managerLabel(c) !== label) lines.push(`conflicts with ${(label = managerLabel(c))}:`);
    lines.push(`- ${c.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** The Status upstream answers a conflicting apply with (errors.NewApplyConflict). */
export function newApplyConflict(conflicts: ApplyConflict[]): StatusError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${managerLabel(c)}`,
    field: c.field,
  }));
  return new StatusError(409, 'Conflict', applyConflictMessage(conflicts), { causes });
}

function sortConflicts(conflicts: ApplyConflict[]): ApplyConflict[] {
  const id = (c: ApplyConflict): string => JSON.stringify([c.manager, c.operation, c.apiVersion, c.subresource ?? '']);
  const order = new Map(conflicts.map((c, i) => [c, i]));
  return [...conflicts].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : order.get(a)! - order.get(b)!));
}

function applyConfig(value: object): JsonObject {
  if (!isObject(value)) throw new PatchError('invalid JSON document', 400);
  const applied = clone(value);
  if (
    typeof applied.apiVersion !== 'string' ||
    !applied.apiVersion ||
    typeof applied.kind !== 'string' ||
    !applied.kind
  ) {
    throw new PatchError('apiVersion and kind must be set in an apply configuration', 400);
  }
  const meta = metadataOf(applied);
  if (meta && 'managedFields' in meta) {
    const mf = meta.managedFields;
    if (mf !== null && !(Array.isArray(mf) && mf.length === 0))
      throw new PatchError('metadata.managedFields must be nil', 400);
    delete meta.managedFields;
  }
  return applied;
}

/** The object as JSON, not copied: it is only read; withoutManagedFields makes the copy that is compared. */
function liveObject(value: object): JsonObject {
  if (!isObject(value)) throw new PatchError('invalid JSON document', 400);
  return value;
}

function metadataOf(obj: JsonObject): JsonObject | undefined {
  return isObject(obj.metadata) ? obj.metadata : undefined;
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const out = clone(obj);
  const meta = metadataOf(out);
  if (meta) delete meta.managedFields;
  return out;
}

function sentManagers(updated: JsonObject): Manager[] | undefined {
  const sent = metadataOf(updated)?.managedFields;
  if (!Array.isArray(sent) || sent.length === 0) return undefined;
  try {
    return decodeManagedFields(sent);
  } catch (err) {
    if (err instanceof PatchError) return undefined;
    throw err;
  }
}

function setManagedFields(obj: JsonObject, managers: Manager[]): void {
  const entries = encodeManagedFields(managers) as unknown as JsonValue[];
  const meta = metadataOf(obj) ?? (obj.metadata = {});
  if (entries.length) meta.managedFields = entries;
  else delete meta.managedFields;
}

/** Removes the fields the applier dropped unless someone still owns them (Updater.prune). */
function prune(obj: JsonObject, dropped: FieldSet, keep: FieldSet, schema: PatchSchema): void {
  for (const path of dropped.paths()) {
    if (keep.hasAtOrBelow(path) || isKeyField(path)) continue;
    removeAt(obj, path, schema);
    // A map emptied by the removal goes too, as Go's omitempty drops it; top-level fields (spec) stay.
    for (let n = path.length - 1; n >= 2 && path[n - 1]!.startsWith('f:'); n--) {
      const parent = path.slice(0, n);
      const v = valueAt(obj, parent, schema);
      if (!isObject(v) || Object.keys(v).length || keep.hasAtOrBelow(parent)) break;
      removeAt(obj, parent, schema);
    }
  }
}

/** A key field of a keyed list item (`name` under `k:{"name":"c"}`): it stays while the item does. */
function isKeyField(path: FieldPath): boolean {
  const item = path.at(-2);
  const field = path.at(-1);
  if (!item?.startsWith('k:') || !field?.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(item.slice(2)) as object, field.slice(2));
}
