// Small helpers over ObjectMeta shared by the API server and components.
import type { KubeObject } from './resource.js';

/** RFC 3339 with second precision, as metav1.Time marshals: `2026-11-22T20:03:00Z`. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals (events.k8s.io eventTime, Lease renewTime). */
export function rfc3339Micro(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function metaOf(obj: KubeObject): NonNullable<KubeObject['metadata']> {
  return (obj.metadata ??= {});
}

/** Deep copy of a JSON value (objects here are always plain JSON). */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Deep equality of two JSON values, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
