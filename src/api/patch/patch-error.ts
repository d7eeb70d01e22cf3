// A patch the client got wrong. Upstream answers most malformed strategic merge patches with 400 BadRequest
// (bad directive formats) and structural mistakes with 422 (handlers/patch.go interpretStrategicMergePatchError);
// the API server turns this into a Status with toStatusError().
import { StatusError } from '../errors.js';

export class PatchError extends Error {
  override readonly name = 'PatchError';

  constructor(
    message: string,
    readonly code: 400 | 422 = 422
  ) {
    super(message);
  }

  toStatusError(): StatusError {
    return new StatusError(this.code, this.code === 400 ? 'BadRequest' : 'Invalid', this.message);
  }
}

/** Upstream prints offending maps with Go's %v; JSON is the readable equivalent. */
export function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}
