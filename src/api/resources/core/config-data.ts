// Rules ConfigMaps and Secrets share: key format, the 1 MiB total, and `immutable: true`.
import { path, type FieldError, type FieldPath } from '../../field.js';
import { jsonEqual } from '../../meta.js';
import type { KubeObject } from '../../resource.js';
import { obj } from '../../validation/json.js';
import { isConfigMapKey } from '../../validation/names.js';

/** core.MaxSecretSize, also the ConfigMap limit: both are stored whole in one storage value. */
export const maxDataSize = 1024 * 1024;

export function validateKeys(data: unknown, p: FieldPath): FieldError[] {
  return Object.keys(obj(data)).flatMap((key) => isConfigMapKey(key).map((msg) => p.key(key).invalid(key, msg)));
}

/** Once `immutable: true` is stored, the flag and the listed data fields may not change. */
export function validateImmutableData(next: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  const detail = 'field is immutable when `immutable` is set';
  if (next.immutable !== true) errs.push(path('immutable').forbidden(detail));
  for (const f of fields) if (!jsonEqual(next[f], old[f])) errs.push(path(f).forbidden(detail));
  return errs;
}
