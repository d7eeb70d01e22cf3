// Discovery: /version, /api, /apis and the group/version documents, in the legacy form and aggregated
// (apidiscovery.k8s.io v2 and v2beta1), negotiated exactly as reference/streaming.md §7.2 says: kubectl 1.27
// offers only v2beta1 and breaks if it gets v2.
import { apiVersionOf, allVerbs, type ResourceDef } from '../../api/resource.js';
import type { RequestContext, Request, Response } from '../context.js';
import { parseAccept } from './negotiate.js';
import { writeJSON } from './responses.js';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

interface SubresourceInfo {
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
}

/** What each subresource returns and accepts, as upstream's discovery lists them. */
function subresourceInfo(def: ResourceDef, sub: string): SubresourceInfo {
  switch (sub) {
    case 'status':
      return { kind: def.kind, verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] };
    case 'log':
      return { kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach':
      return { kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward':
      return { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'proxy':
      return { kind: `${def.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    case 'token':
      return { kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' };
    case 'approval':
      return { kind: def.kind, verbs: ['get', 'patch', 'update'] };
    case 'finalize':
      return { kind: def.kind, verbs: ['update'] };
    case 'eviction':
      return { kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' };
    default:
      return { kind: def.kind, verbs: ['get'] };
  }
}

interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceDef[];
}

export class Discovery {
  readonly #groups: GroupVersion[];
  readonly #core: GroupVersion;
  readonly #cache = new Map<string, string>();

  constructor(
    defs: readonly ResourceDef[],
    groupOrder: readonly string[],
    readonly version: VersionInfo
  ) {
    const byGV = new Map<string, GroupVersion>();
    for (const d of defs) {
      const k = `${d.group}/${d.version}`;
      if (!byGV.has(k)) byGV.set(k, { group: d.group, version: d.version, resources: [] });
      byGV.get(k)!.resources.push(d);
    }
    for (const gv of byGV.values()) gv.resources.sort((a, b) => a.resource.localeCompare(b.resource));
    const rank = (g: string): number => {
      const i = groupOrder.indexOf(g);
      return i < 0 ? groupOrder.length : i;
    };
    const all = [...byGV.values()].sort((a, b) => rank(a.group) - rank(b.group) || a.group.localeCompare(b.group));
    this.#core = all.find((g) => g.group === '') ?? { group: '', version: 'v1', resources: [] };
    this.#groups = all.filter((g) => g.group !== '');
  }

  /** Serves a discovery path; false when the path is not a discovery document. */
  serve(ctx: RequestContext, req: Request, res: Response): boolean {
    const p = ctx.url.pathname.replace(/\/$/, '');
    if (p === '/version') return this.#json(ctx, req, res, 'version', () => this.version);
    if (p === '/api' || p === '/apis') {
      const aggregated = negotiateAggregated(req.headers.accept);
      if (aggregated) {
        const body = this.#cached(`${p}:${aggregated}`, () =>
          this.#aggregated(p === '/api' ? [this.#core] : this.#groups, aggregated)
        );
        const contentType = `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`;
        ctx.statusCode = 200;
        res.writeHead(200, { 'content-type': contentType, vary: 'Accept', 'cache-control': 'no-cache, private' });
        res.end(body);
        return true;
      }
      if (p === '/api')
        return this.#json(ctx, req, res, p, () => ({
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [
            { clientCIDR: '0.0.0.0/0', serverAddress: String(req.headers.host ?? req.headers[':authority'] ?? '') },
          ],
        }));
      return this.#json(ctx, req, res, p, () => ({
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: this.#groups.map((g) => this.#groupDoc(g)),
      }));
    }
    if (p === '/api/v1') return this.#json(ctx, req, res, p, () => this.#resourceList(this.#core));
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    if (!m) return false;
    const gv = this.#groups.find((g) => g.group === m[1] && (!m[2] || g.version === m[2]));
    if (!gv) return false;
    if (!m[2])
      return this.#json(ctx, req, res, p, () => ({ ...this.#groupDoc(gv), kind: 'APIGroup', apiVersion: 'v1' }));
    return this.#json(ctx, req, res, p, () => this.#resourceList(gv));
  }

  #json(ctx: RequestContext, req: Request, res: Response, key: string, build: () => unknown): boolean {
    const body = this.#cached(key, () => JSON.stringify(build()));
    writeJSON(ctx, req, res, 200, JSON.parse(body));
    return true;
  }

  #cached(key: string, build: () => string): string {
    let v = this.#cache.get(key);
    if (v === undefined) {
      v = build();
      this.#cache.set(key, v);
    }
    return v;
  }

  #groupDoc(g: GroupVersion): Record<string, unknown> {
    const gv = { groupVersion: `${g.group}/${g.version}`, version: g.version };
    return { name: g.group, versions: [gv], preferredVersion: gv };
  }

  #resourceList(gv: GroupVersion): Record<string, unknown> {
    const resources: Record<string, unknown>[] = [];
    for (const d of gv.resources) {
      const r: Record<string, unknown> = {
        name: d.resource,
        singularName: d.singular,
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: d.verbs ?? allVerbs,
      };
      if (d.shortNames?.length) r.shortNames = d.shortNames;
      if (d.categories?.length) r.categories = d.categories;
      resources.push(r);
      for (const sub of d.subresources ?? []) {
        const info = subresourceInfo(d, sub);
        const s: Record<string, unknown> = {
          name: `${d.resource}/${sub}`,
          singularName: '',
          namespaced: d.namespaced,
          kind: info.kind,
          verbs: info.verbs,
        };
        if (info.group) {
          s.group = info.group;
          s.version = info.version;
        }
        resources.push(s);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(gv), resources };
  }

  #aggregated(groups: GroupVersion[], version: 'v2' | 'v2beta1'): string {
    const items = groups.map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: [
        {
          version: g.version,
          freshness: 'Current',
          resources: g.resources.map((d) => {
            const r: Record<string, unknown> = {
              resource: d.resource,
              responseKind: { group: d.group, version: d.version, kind: d.kind },
              scope: d.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: d.singular,
              verbs: d.verbs ?? allVerbs,
            };
            if (d.shortNames?.length) r.shortNames = d.shortNames;
            if (d.categories?.length) r.categories = d.categories;
            if (d.subresources?.length)
              r.subresources = d.subresources.map((sub) => {
                const info = subresourceInfo(d, sub);
                return {
                  subresource: sub,
                  responseKind: { group: info.group ?? d.group, version: info.version ?? d.version, kind: info.kind },
                  verbs: info.verbs,
                };
              });
            return r;
          }),
        },
      ],
    }));
    return JSON.stringify({
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items,
    });
  }
}

/** The aggregated discovery version the client asked for first, or undefined for the legacy documents. */
export function negotiateAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (
      m.params.g === 'apidiscovery.k8s.io' &&
      m.params.as === 'APIGroupDiscoveryList' &&
      (m.params.v === 'v2' || m.params.v === 'v2beta1')
    )
      return m.params.v;
    if (!m.params.as && (m.type === 'application/json' || m.type === '*/*')) return undefined;
  }
  return undefined;
}
