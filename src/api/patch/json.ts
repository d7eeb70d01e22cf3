// JSON values as the API server holds them after parsing a request body: the patch code works on these,
// never on typed objects, so one implementation serves every kind (and custom resources).
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's reflect.TypeOf as strategicpatch compares it: map, slice, or the scalar's own type. */
export function kindOf(v: JsonValue): 'object' | 'array' | 'null' | 'string' | 'number' | 'boolean' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as 'object' | 'string' | 'number' | 'boolean';
}

export function clone<T extends JsonValue>(v: T): T {
  return structuredClone(v);
}

export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => k in b && deepEqual(a[k], b[k]));
}
