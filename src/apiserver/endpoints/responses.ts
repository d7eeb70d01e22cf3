// Writing responses: JSON (gzip when the client asks and the body is large enough to gain), Status for errors,
// and the Warning headers kubectl prints.
import { gzipSync } from 'node:zlib';
import { StatusError, newInternalError, newServiceUnavailable, newTimeout } from '../../api/errors.js';
import { isStorageError } from '../../storage/interface.js';
import type { RequestContext, Request, Response } from '../context.js';

/** Below this many bytes gzip costs more than it saves (upstream uses 128 KiB; smaller still pays on a slow link). */
const gzipThreshold = 8 * 1024;

function headersFor(ctx: RequestContext, contentType: string): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'content-type': contentType, 'cache-control': 'no-cache, private' };
  if (ctx.warnings.length) h.warning = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  return h;
}

export function writeBody(
  ctx: RequestContext,
  req: Request,
  res: Response,
  code: number,
  body: string | Buffer,
  contentType: string
): void {
  const headers = headersFor(ctx, contentType);
  let payload: Buffer = typeof body === 'string' ? Buffer.from(body) : body;
  if (payload.length >= gzipThreshold && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    // Level 1, as upstream's defaultGzipContentEncodingLevel: most of the gain for a fraction of the time.
    payload = gzipSync(payload, { level: 1 });
    headers['content-encoding'] = 'gzip';
    headers.vary = 'Accept-Encoding';
  }
  headers['content-length'] = String(payload.length);
  ctx.statusCode = code;
  res.writeHead(code, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(payload);
}

export function writeJSON(
  ctx: RequestContext,
  req: Request,
  res: Response,
  code: number,
  obj: unknown,
  contentType = 'application/json'
): void {
  writeBody(ctx, req, res, code, JSON.stringify(obj), contentType);
}

/**
 * Each object's JSON, kept as long as the object: watch-cache objects are shared by every reader and never
 * mutated, so a LIST or a watch event encodes each one once, not once per request or per watcher.
 */
const encodings = new WeakMap<object, Buffer>();

/** The JSON of an object that is never mutated (watch-cache objects), encoded at most once. */
export function sharedJSON(obj: object): Buffer {
  let json = encodings.get(obj);
  if (!json) {
    json = Buffer.from(JSON.stringify(obj));
    encodings.set(obj, json);
  }
  return json;
}

const comma = Buffer.from(',');
const listEnd = Buffer.from(']}');

/** A list as JSON.stringify({...head, items}) would write it, the items from their shared encodings. */
export function writeList(
  ctx: RequestContext,
  req: Request,
  res: Response,
  code: number,
  head: Record<string, unknown>,
  items: readonly object[]
): void {
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(head).slice(0, -1)},"items":[`)];
  items.forEach((item, i) => {
    if (i > 0) parts.push(comma);
    parts.push(sharedJSON(item));
  });
  parts.push(listEnd);
  writeBody(ctx, req, res, code, Buffer.concat(parts), 'application/json');
}

/**
 * Any thrown error becomes a Status: storage that cannot be reached is a 503 (504 when it did not answer in time),
 * anything else that is not a StatusError a 500 (logged by the caller).
 */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (isStorageError(err, 'Unavailable')) return newServiceUnavailable(err.message);
  if (isStorageError(err, 'Timeout')) return newTimeout(err.message);
  return newInternalError(err);
}

export function writeError(ctx: RequestContext, req: Request, res: Response, err: unknown): void {
  const se = toStatusError(err);
  if (res.headersSent) {
    res.destroy?.();
    return;
  }
  writeJSON(ctx, req, res, se.code, se.status);
}
