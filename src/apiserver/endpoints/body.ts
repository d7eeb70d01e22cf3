// Reading and decoding request bodies: a hard size limit (upstream: 3 MiB), JSON or YAML by Content-Type, and a
// 400 that names what is wrong with a malformed body.
import { parseDocument } from 'yaml';
import { newBadRequest, newRequestEntityTooLarge, newUnsupportedMediaType, StatusError } from '../../api/errors.js';
import { decodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufError } from '../../api/protobuf/index.js';
import type { Request } from '../context.js';

export const maxRequestBodyBytes = 3 * 1024 * 1024;

export async function readBody(req: Request, limit = maxRequestBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw newRequestEntityTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw newRequestEntityTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: Request): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** Finds keys given twice in one JSON object (strict field validation reports them). */
export function duplicateJSONKeys(text: string): string[] {
  const dups: string[] = [];
  const stack: { keys: Set<string>; path: string }[] = [];
  const re = /"((?:[^"\\]|\\.)*)"\s*:|[{}[\]]/g;
  let m: RegExpExecArray | null;
  let lastKey = '';
  while ((m = re.exec(text))) {
    const tok = m[0];
    if (tok === '{')
      stack.push({
        keys: new Set(),
        path: stack.length ? `${stack.at(-1)!.path}${stack.at(-1)!.path ? '.' : ''}${lastKey}` : '',
      });
    else if (tok === '}') stack.pop();
    else if (tok === '[' || tok === ']') continue;
    else {
      const key = JSON.parse(`"${m[1]}"`) as string;
      const top = stack.at(-1);
      if (top?.keys.has(key)) dups.push(top.path ? `${top.path}.${key}` : key);
      top?.keys.add(key);
      lastKey = key;
    }
  }
  return dups;
}

export interface Decoded {
  obj: unknown;
  /** Keys repeated within one object: a strict-validation error, a warning otherwise. */
  duplicates: string[];
}

/** Decodes a JSON, YAML or Kubernetes-protobuf body into a plain object. */
export function decodeBody(body: Buffer, type: string): Decoded {
  // kubectl ≥1.32's typed commands (create ns/configmap/secret, auth can-i, certificate approve…) send protobuf.
  if (isKubernetesProtobuf(type)) return { obj: decodeProtobuf(body), duplicates: [] };
  const text = body.toString('utf8');
  if (text.trim() === '') throw newBadRequest('the request body is empty; expected a JSON or YAML object');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml') {
    const doc = parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length)
      throw newBadRequest(`error converting YAML to JSON: ${doc.errors[0]!.message.split('\n')[0]}`);
    const dups: string[] = [];
    const obj = doc.toJS({ maxAliasCount: 100 }) as unknown;
    return { obj, duplicates: dups };
  }
  if (type !== 'application/json' && !type.endsWith('+json') && type !== '') throw newUnsupportedMediaType(type);
  try {
    return { obj: JSON.parse(text) as unknown, duplicates: duplicateJSONKeys(text) };
  } catch (err) {
    throw newBadRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function decodeProtobuf(body: Buffer): unknown {
  try {
    return decodeKubernetesProtobuf(body).object;
  } catch (err) {
    if (!(err instanceof ProtobufError)) throw err;
    if (err.code === 'UnknownKind')
      throw new StatusError(415, 'UnsupportedMediaType', `${err.message}; send this kind as application/json`);
    throw newBadRequest(`the protobuf body could not be decoded: ${err.message}`);
  }
}
