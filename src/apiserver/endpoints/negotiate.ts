// Output negotiation from the Accept header: plain JSON, a server-side Table (what `kubectl get` asks for), or
// 406 when the client accepts nothing we can produce (protobuf only).
import { StatusError } from '../../api/errors.js';
import type { Request } from '../context.js';

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params };
  });
}

export type ObjectOutput = { as: 'object' } | { as: 'Table'; includeObject: 'None' | 'Metadata' | 'Object' };

const jsonLike = new Set([
  'application/json',
  'application/*',
  '*/*',
  'application/yaml',
  'application/json;stream=watch',
]);

/** Decides how to render objects of a resource for this request. */
export function negotiateObjectOutput(req: Request, url: URL): ObjectOutput {
  for (const m of parseAccept(req.headers.accept)) {
    if (
      m.params.as === 'Table' &&
      (m.params.g ?? 'meta.k8s.io') === 'meta.k8s.io' &&
      (m.params.v === 'v1' || m.params.v === 'v1beta1')
    ) {
      const inc = url.searchParams.get('includeObject');
      const includeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
      return { as: 'Table', includeObject };
    }
    if (m.params.as) continue; // PartialObjectMetadata and other conversions fall through to a later range
    if (jsonLike.has(m.type)) return { as: 'object' };
  }
  throw new StatusError(
    406,
    'NotAcceptable',
    `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`
  );
}

/** Wants YAML back (rare for kubectl; curl users ask for it). */
export function wantsYAML(req: Request): boolean {
  const first = parseAccept(req.headers.accept)[0];
  return first?.type === 'application/yaml';
}
