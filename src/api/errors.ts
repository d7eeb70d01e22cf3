// Errors on the wire are Kubernetes Status objects (apimachinery's StatusError). Every handler throws one of
// these; one writer turns it into the response, so kubectl prints `Error from server (Reason): message`.
import type { Status, StatusCause } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from './field.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'Timeout'
  | 'TooManyRequests'
  | 'Expired'
  | 'ServiceUnavailable'
  | 'InternalError';

const kStatusError = Symbol.for('hubspoke.StatusError');

export interface GroupResource {
  group: string;
  resource: string;
}

export class StatusError extends Error {
  readonly [kStatusError] = true;
  override readonly name = 'StatusError';
  readonly status: Status & { code: number; reason: StatusReason; message: string };

  constructor(
    code: number,
    reason: StatusReason,
    message: string,
    details?: Status['details'],
    options?: ErrorOptions
  ) {
    super(message, options);
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): StatusReason {
    return this.status.reason;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && kStatusError in value;
  }
}

/** `pods` or `leases.coordination.k8s.io`, as upstream's messages qualify a resource. */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function details(gr: GroupResource, name?: string, causes?: StatusCause[]): Status['details'] {
  const d: NonNullable<Status['details']> = { kind: gr.resource };
  if (gr.group) d.group = gr.group;
  if (name !== undefined) d.name = name;
  if (causes) d.causes = causes;
  return d;
}

export function newBadRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function newUnauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

/** Upstream's shape: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function newForbidden(gr: GroupResource, name: string, reason: string): StatusError {
  const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return new StatusError(403, 'Forbidden', `${subject} is forbidden: ${reason}`, details(gr, name || undefined));
}

export function newNotFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, details(gr, name));
}

export function newAlreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, details(gr, name));
}

export function newConflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    details(gr, name)
  );
}

/** The optimistic-concurrency failure kubectl and controllers retry on. */
export function newStaleConflict(gr: GroupResource, name: string): StatusError {
  return newConflict(
    gr,
    name,
    'the object has been modified; please apply your changes to the latest version and try again'
  );
}

export function newGone(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

/** 422 with every field error listed, as `field.ErrorList.ToAggregate()` prints them. */
export function newInvalid(kind: string, group: string, name: string, errs: FieldError[]): StatusError {
  const causes = errs.map((e) => ({ reason: e.type, message: e.toString(), field: e.field }));
  const list = errs.map((e) => e.toString());
  const aggregate = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const d: NonNullable<Status['details']> = { name, kind, causes };
  if (group) d.group = group;
  return new StatusError(422, 'Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${aggregate}`, d);
}

export function newMethodNotSupported(gr: GroupResource, verb: string): StatusError {
  return new StatusError(
    405,
    'MethodNotAllowed',
    `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    details(gr)
  );
}

export function newRequestEntityTooLarge(limit: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `the request body is too large (limit is ${limit} bytes)`);
}

export function newUnsupportedMediaType(contentType: string): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${contentType || 'none'})`
  );
}

export function newInternalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(
    500,
    'InternalError',
    `Internal error occurred: ${msg}`,
    { causes: [{ message: msg }] },
    { cause: err }
  );
}

export function newTimeout(message: string): StatusError {
  return new StatusError(504, 'Timeout', message);
}

export function newServiceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

export function isStatusError(err: unknown, reason?: StatusReason): err is StatusError {
  return err instanceof StatusError && (reason === undefined || err.reason === reason);
}

export const isNotFound = (err: unknown): boolean => isStatusError(err, 'NotFound');
export const isAlreadyExists = (err: unknown): boolean => isStatusError(err, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => isStatusError(err, 'Conflict');

/** Whether the Status carries a cause of this reason (upstream HasStatusCause), e.g. `NamespaceTerminating`. */
export const hasStatusCause = (err: unknown, reason: string): boolean =>
  isStatusError(err) && (err.status.details?.causes ?? []).some((c) => c.reason === reason);
