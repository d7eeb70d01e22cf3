// Query parameters shared by the verbs, checked once with upstream's messages.
import { newBadRequest, StatusError } from '../../api/errors.js';
import { path } from '../../api/field.js';

export interface WriteParams {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  force: boolean;
}

function invalidParams(detail: string): StatusError {
  return new StatusError(422, 'Invalid', detail, { causes: [{ reason: 'FieldValueNotSupported', message: detail }] });
}

export function writeParams(q: URLSearchParams): WriteParams {
  const dry = q.getAll('dryRun');
  for (const d of dry) if (d !== 'All') throw invalidParams(path('dryRun').notSupported(d, ['All']).toString());
  const fv = q.get('fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore')
    throw newBadRequest(`fieldValidation parameter unsupported: ${fv}. Supported values: Strict, Warn, Ignore`);
  const manager = q.get('fieldManager') ?? undefined;
  if (manager !== undefined && (manager.length > 128 || !/^[\x20-\x7e]*$/.test(manager)))
    throw invalidParams(path('fieldManager').invalid(manager, 'must be at most 128 printable characters').toString());
  const force = q.get('force');
  if (force !== null && force !== 'true' && force !== 'false')
    throw newBadRequest(`invalid value for force: "${force}"`);
  return { dryRun: dry.length > 0, fieldManager: manager, fieldValidation: fv, force: force === 'true' };
}

export function intParam(q: URLSearchParams, name: string, min = 0): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw newBadRequest(`invalid value for ${name}: "${v}"`);
  return Number(v);
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** Upstream's default field manager for non-apply writes: the user agent's product name (`kubectl-edit`, `kubectl`). */
export function defaultFieldManager(userAgent: string | undefined): string {
  const product = (userAgent ?? '').split('/')[0]?.trim();
  return product ? product.slice(0, 128) : 'unknown';
}
