// Turns a URL and method into what authorization and the handlers need (k8s apiserver RequestInfoFactory).
import { parseFieldSelector, type Requirement } from '../api/selectors.js';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection; or the lower-case method for non-resource paths. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource, for proxy paths (`/api/v1/nodes/n/proxy/stats/summary` → `stats/summary`). */
  parts: string[];
}

const methodVerbs: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
  GET: 'get',
  HEAD: 'get',
};

/** The parsed `fieldSelector` of a request; `undefined` when absent or malformed (the handler reports it). */
export function fieldSelectorRequirements(url: URL): readonly Requirement[] | undefined {
  const raw = url.searchParams.get('fieldSelector');
  if (!raw) return undefined;
  try {
    return parseFieldSelector(raw).requirements;
  } catch {
    return undefined;
  }
}

// apimachinery path.IsValidPathSegmentName.
const isPathSegmentName = (n: string): boolean => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('%');

export function resolveRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  const segs = path.split('/').filter((s) => s !== '');
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    info.apiPrefix = 'api';
    info.apiVersion = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    info.apiPrefix = 'apis';
    info.apiGroup = segs[1]!;
    info.apiVersion = segs[2]!;
    rest = segs.slice(3);
  } else {
    return info;
  }
  if (rest.length === 0) return info; // a group/version discovery document
  info.isResourceRequest = true;
  info.verb = methodVerbs[method] ?? method.toLowerCase();
  // The deprecated /watch/ path prefix means verb watch.
  if (rest[0] === 'watch') {
    info.verb = 'watch';
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'finalize' && rest[2] !== 'status') {
    info.namespace = rest[1]!;
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length >= 2) {
    // /api/v1/namespaces/{name}[/status|/finalize] addresses the namespace object itself.
    info.namespace = rest[1]!;
  }
  info.resource = rest[0] ?? '';
  info.name = rest[1] ?? '';
  info.subresource = rest[2] ?? '';
  info.parts = rest.slice(3);
  // A trailing slash on a proxy path is meaningful to the backend.
  if (info.subresource === 'proxy' && path.endsWith('/') && rest.length > 3) info.parts.push('');
  if (info.verb === 'get' && info.name === '') info.verb = 'list';
  if (info.verb === 'delete' && info.name === '') info.verb = 'deletecollection';
  const watch = url.searchParams.get('watch');
  if ((info.verb === 'list' || info.verb === 'get') && (watch === 'true' || watch === '1')) info.verb = 'watch';
  // A list or watch of one object by `fieldSelector=metadata.name=x` is authorized as that object (RBAC
  // resourceNames, the Node authorizer), as upstream's RequestInfoFactory names it.
  if ((info.verb === 'list' || info.verb === 'watch') && info.name === '') {
    const name = fieldSelectorRequirements(url)?.find((r) => r.key === 'metadata.name' && r.op === '=')?.values[0];
    if (name && isPathSegmentName(name)) info.name = name;
  }
  return info;
}
