// metadata.managedFields: decoding the entries into field sets and back, the way upstream's
// k8s.io/apimachinery/pkg/util/managedfields/internal does (managedfields.go, conflict.go).
import { FieldSet, pathString, type FieldPath } from './field-set.js';
import { isObject, type JsonObject, type JsonValue } from './json.js';
import { PatchError } from './patch-error.js';

export type Operation = 'Apply' | 'Update';

export interface ManagedFieldsEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/** One manager's entry with its fields decoded. */
export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/**
 * Whether two entries are the same manager (upstream's BuildManagerIdentifier): an applier is one manager whatever
 * apiVersion it applies with; an updater is a different one per apiVersion.
 */
export function sameManager(a: Omit<Manager, 'set'>, b: Omit<Manager, 'set'>): boolean {
  return (
    a.manager === b.manager &&
    a.operation === b.operation &&
    (a.subresource ?? '') === (b.subresource ?? '') &&
    (a.operation === 'Apply' || a.apiVersion === b.apiVersion)
  );
}

export function decodeManagedFields(entries: JsonValue | undefined): Manager[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new PatchError('metadata.managedFields must be a list', 422);
  return entries.map((e, i) => {
    if (!isObject(e)) throw new PatchError(`metadata.managedFields[${i}] must be an object`, 422);
    const operation = e.operation ?? 'Update';
    if (operation !== 'Apply' && operation !== 'Update') {
      throw new PatchError(`metadata.managedFields[${i}].operation: must be one of Apply, Update`, 422);
    }
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') {
      throw new PatchError(`metadata.managedFields[${i}].fieldsType: must be FieldsV1`, 422);
    }
    const m: Manager = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      set: e.fieldsV1 === undefined ? new FieldSet() : FieldSet.fromFieldsV1(e.fieldsV1),
    };
    if (typeof e.time === 'string') m.time = e.time;
    if (typeof e.subresource === 'string' && e.subresource) m.subresource = e.subresource;
    return m;
  });
}

const seconds = (time: string | undefined): number => (time ? Math.floor(Date.parse(time) / 1000) || 0 : 0);

/** Entries with fields, ordered as upstream's sortEncodedManagedFields: operation, time, manager, version. */
export function encodeManagedFields(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => !m.set.isEmpty())
    .sort(
      (p, q) =>
        compareStrings(p.operation, q.operation) ||
        seconds(p.time) - seconds(q.time) ||
        compareStrings(p.manager, q.manager) ||
        compareStrings(p.apiVersion, q.apiVersion) ||
        compareStrings(p.subresource ?? '', q.subresource ?? '')
    )
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time !== undefined && { time: m.time }),
      fieldsType: 'FieldsV1',
      fieldsV1: m.set.toFieldsV1(),
      ...(m.subresource && { subresource: m.subresource }),
    }));
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A manager as conflict messages name it: `"kubectl" using v1`, `"kubelet" with subresource "status" using v1`. */
export function managerLabel(m: Omit<Manager, 'set'>): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === 'Update' ? `${s} using ${m.apiVersion}` : s;
}

export interface ApplyConflict {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  path: FieldPath;
  /** The path as upstream prints it: `.spec.containers[name="c"].image`. */
  field: string;
}

export function newApplyConflicts(m: Manager, paths: FieldPath[]): ApplyConflict[] {
  return paths.map((path) => {
    const c: ApplyConflict = {
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      path,
      field: pathString(path),
    };
    if (m.subresource) c.subresource = m.subresource;
    return c;
  });
}
