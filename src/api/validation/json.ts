// Safe readers for decoded JSON: objects reach validation before any schema check, so a wrong type must give a
// field error, never a TypeError (which would become a 500).
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is an object, else a fresh empty object (not attached to anything). */
export function obj(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The object at `parent[key]`, created when absent (for defaulting). */
export function child(parent: JsonObject, key: string): JsonObject {
  const v = parent[key];
  if (isObject(v)) return v;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

/** Objects of the array at `parent[key]` (non-objects skipped), for defaulting in place. */
export function objects(v: unknown): JsonObject[] {
  return arr(v).filter(isObject);
}

/** String entries of a map field such as labels or data (other values are left to the decoder to reject). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}
