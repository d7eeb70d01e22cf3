// The resource handlers (k8s apiserver/pkg/endpoints/handlers): decode → admission → registry → storage, one
// function per verb, chosen by the RequestInfo the chain resolved.
import { newBadRequest, newMethodNotSupported, StatusError } from '../../api/errors.js';
import { clone, rfc3339 } from '../../api/meta.js';
import { apiVersionOf, type KubeObject, type ResourceDef } from '../../api/resource.js';
import { parseFieldSelector, parseLabelSelector } from '../../api/selectors.js';
import { toTable, printerFor } from '../../api/printers/index.js';
import { updateManagedFields, patchSchemaFor } from '../../api/patch/index.js';
import type { Logger } from '../../lib/log.js';
import type { AdmissionChain } from '../admission/interface.js';
import type { RequestContext, Request, Response } from '../context.js';
import type { RegistryStore, ListQuery, Operation, DeleteOptions } from '../registry/store.js';
import { decodeBody, mediaType, readBody } from './body.js';
import { negotiateObjectOutput, type ObjectOutput } from './negotiate.js';
import { applyPatchRequest, isPatchType } from './patch.js';
import { defaultFieldManager, intParam, writeParams, type WriteParams } from './query.js';
import { writeJSON, writeList } from './responses.js';
import { serveWatch } from './watch.js';
import type { Subresources } from '../registry/subresources.js';

export interface ResourceIndex {
  /** The store serving group/version/resource, if any. */
  lookup(group: string, version: string, resource: string): RegistryStore | undefined;
  /** The store for another resource (namespace checks, controllers' needs). */
  byResource(group: string, resource: string): RegistryStore | undefined;
}

export interface EndpointsConfig {
  resources: ResourceIndex;
  admission: AdmissionChain;
  subresources: Subresources;
  /** Paths of fields the type does not have (for fieldValidation). */
  unknownFields(def: ResourceDef, obj: KubeObject): string[];
  bookmarkIntervalMs: number;
  log: Logger;
}

/** Subresources served by the generic store itself; others come from `Subresources`. */
const storeSubresources = new Set(['', 'status']);

export async function serveResource(
  ctx: RequestContext,
  req: Request,
  res: Response,
  c: EndpointsConfig
): Promise<void> {
  const ri = ctx.requestInfo;
  const store = c.resources.lookup(ri.apiGroup, ri.apiVersion, ri.resource);
  if (!store)
    throw new StatusError(404, 'NotFound', `the server could not find the requested resource`, {
      group: ri.apiGroup,
      kind: ri.resource,
    });
  const def = store.def;
  const ns = def.namespaced ? ri.namespace : '';
  // A cluster-wide list or watch may carry a name (from fieldSelector=metadata.name=…); a get or write may not.
  if (def.namespaced && !ns && ri.name && ri.verb !== 'list' && ri.verb !== 'watch')
    throw newBadRequest(`the server could not find the requested resource: ${def.resource} is namespaced`);
  if (!def.namespaced && ri.namespace && ri.resource !== 'namespaces')
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (ri.subresource && !storeSubresources.has(ri.subresource)) {
    if (!def.subresources?.includes(ri.subresource))
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    return c.subresources.serve(ctx, req, res, store);
  }
  if (ri.subresource === 'status' && !def.hasStatus)
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const q = ctx.url.searchParams;
  switch (ri.verb) {
    case 'get':
      return respondObject(ctx, req, res, store, 200, await store.get(ns, ri.name));
    case 'list':
      return serveList(ctx, req, res, store, ns);
    case 'watch':
      return serveWatch(ctx, req, res, store, ns, listQuery(store, q), c);
    case 'create': {
      if (ri.name) throw newMethodNotSupported(store.gr, 'create');
      const p = writeParams(q);
      const obj = await decodeObject(ctx, req, store, p, c);
      checkNamespace(obj, ns);
      stampManagedFields(ctx, req, store, obj, null, p);
      const created = await store.create(ns, obj, operation(ctx, p, c));
      return respondObject(ctx, req, res, store, 201, created);
    }
    case 'update': {
      const p = writeParams(q);
      const obj = await decodeObject(ctx, req, store, p, c);
      checkNamespace(obj, ns);
      const name = obj.metadata?.name;
      if (name !== ri.name)
        throw newBadRequest(`the name of the object (${name ?? ''}) does not match the name on the URL (${ri.name})`);
      const { object, created } = await store.guaranteedUpdate(
        ns,
        ri.name,
        { ...operation(ctx, p, c), subresource: ri.subresource },
        (current) => {
          const next = clone(obj);
          stampManagedFields(ctx, req, store, next, current, p);
          return next;
        }
      );
      return respondObject(ctx, req, res, store, created ? 201 : 200, object);
    }
    case 'patch': {
      const type = mediaType(req);
      if (!isPatchType(type))
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`
        );
      const p = writeParams(q);
      const body = await readBody(req);
      const { object, created } = await applyPatchRequest(ctx, req, store, ns, type, body, p, operation(ctx, p, c), c);
      return respondObject(ctx, req, res, store, created ? 201 : 200, object);
    }
    case 'delete': {
      const p = writeParams(q);
      const opts = await deleteOptions(req, q);
      const { object } = await store.delete(ns, ri.name, opts, operation(ctx, p, c));
      return respondObject(ctx, req, res, store, 200, object);
    }
    case 'deletecollection': {
      const p = writeParams(q);
      const opts = await deleteOptions(req, q);
      const list = await store.list(ns, listQuery(store, q));
      const deleted: KubeObject[] = [];
      for (const item of list.items) {
        try {
          deleted.push(
            (await store.delete(item.metadata?.namespace ?? '', item.metadata!.name!, opts, operation(ctx, p, c)))
              .object
          );
        } catch (err) {
          if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
        }
      }
      return writeJSON(ctx, req, res, 200, {
        apiVersion: store.apiVersion,
        kind: def.listKind,
        metadata: { resourceVersion: list.resourceVersion },
        items: deleted,
      });
    }
    default:
      throw newMethodNotSupported(store.gr, ri.verb);
  }
}

function operation(ctx: RequestContext, p: WriteParams, c: EndpointsConfig): Operation {
  return { dryRun: p.dryRun, user: ctx.user, admission: c.admission };
}

export function listQuery(store: RegistryStore, q: URLSearchParams): ListQuery {
  const fields = new Set(Object.keys(store.fieldsOf({ metadata: {} })));
  for (const f of Object.keys(store.def.strategy.selectableFields?.({ metadata: {} }) ?? {})) fields.add(f);
  return {
    labelSelector: parseLabelSelector(q.get('labelSelector')),
    fieldSelector: parseFieldSelector(q.get('fieldSelector'), fields),
    limit: intParam(q, 'limit'),
    continueToken: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
  };
}

async function serveList(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  ns: string
): Promise<void> {
  const q = listQuery(store, ctx.url.searchParams);
  const match = q.resourceVersionMatch;
  if (match && match !== 'Exact' && match !== 'NotOlderThan')
    throw newBadRequest(
      `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`
    );
  if (match && !q.resourceVersion)
    throw newBadRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (q.continueToken && q.resourceVersion && q.resourceVersion !== '0')
    throw newBadRequest('specifying resource version is not allowed when using continue');
  const out = negotiateObjectOutput(req, ctx.url);
  const list = await store.list(ns, q);
  const metadata: Record<string, unknown> = { resourceVersion: list.resourceVersion };
  if (list.continueToken) metadata.continue = list.continueToken;
  if (list.remainingItemCount !== undefined) metadata.remainingItemCount = list.remainingItemCount;
  if (out.as === 'Table') return writeJSON(ctx, req, res, 200, renderTable(store, list.items, out, metadata));
  writeList(ctx, req, res, 200, { apiVersion: store.apiVersion, kind: store.def.listKind, metadata }, list.items);
}

export function renderTable(
  store: RegistryStore,
  items: KubeObject[],
  out: Extract<ObjectOutput, { as: 'Table' }>,
  listMeta: Record<string, unknown>
): unknown {
  return toTable(printerFor(store.def.group, store.def.resource), items, {
    now: new Date(),
    includeObject: out.includeObject,
    listMeta,
  });
}

function respondObject(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  code: number,
  obj: KubeObject
): void {
  const out = negotiateObjectOutput(req, ctx.url);
  if (out.as === 'Table')
    return writeJSON(
      ctx,
      req,
      res,
      code,
      renderTable(store, [obj], out, { resourceVersion: obj.metadata?.resourceVersion })
    );
  writeJSON(ctx, req, res, code, obj);
}

function checkNamespace(obj: KubeObject, ns: string): void {
  const objNs = obj.metadata?.namespace;
  if (objNs && ns && objNs !== ns)
    throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
}

/** Decodes a create/update body and checks it is the URL's kind; unknown fields per fieldValidation. */
async function decodeObject(
  ctx: RequestContext,
  req: Request,
  store: RegistryStore,
  p: WriteParams,
  c: EndpointsConfig
): Promise<KubeObject> {
  const { obj, duplicates } = decodeBody(await readBody(req), mediaType(req));
  return checkObject(ctx, store, obj, duplicates, p, c);
}

export function checkObject(
  ctx: RequestContext,
  store: RegistryStore,
  obj: unknown,
  duplicates: string[],
  p: WriteParams,
  c: EndpointsConfig
): KubeObject {
  const def = store.def;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw newBadRequest(`the body must be a JSON object of kind ${def.kind}`);
  const o = obj as KubeObject;
  const want = apiVersionOf(def);
  // As upstream's decoder, the URL supplies apiVersion and kind when the body leaves them out.
  o.apiVersion ||= want;
  o.kind ||= def.kind;
  if (o.apiVersion !== want || o.kind !== def.kind) {
    // events.k8s.io/v1 and core/v1 Events are the same resource in upstream, but a body must match the URL.
    throw newBadRequest(
      o.apiVersion !== want
        ? `the API version in the data (${o.apiVersion ?? ''}) does not match the expected API version (${want})`
        : `the kind in the data (${o.kind}) does not match the expected kind (${def.kind})`
    );
  }
  if (o.metadata !== undefined && (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)))
    throw newBadRequest('metadata must be an object');
  const problems = [
    ...duplicates.map((d) => `duplicate field "${d}"`),
    ...c.unknownFields(def, o).map((f) => `unknown field "${f}"`),
  ];
  if (problems.length && p.fieldValidation === 'Strict')
    throw newBadRequest(`strict decoding error: ${problems.join(', ')}`);
  if (problems.length && p.fieldValidation === 'Warn') ctx.warnings.push(...problems);
  return o;
}

/** Records the writer's fields in managedFields (operation Update), as every non-apply write does upstream. */
export function stampManagedFields(
  ctx: RequestContext,
  req: Request,
  store: RegistryStore,
  obj: KubeObject,
  live: KubeObject | null,
  p: WriteParams
): void {
  const manager = p.fieldManager ?? defaultFieldManager(req.headers['user-agent']);
  const meta = (obj.metadata ??= {});
  // A client that sends managedFields back unchanged (kubectl edit, replace) keeps the history it read.
  if (live && meta.managedFields === undefined) meta.managedFields = live.metadata?.managedFields;
  const updated = updateManagedFields({
    live,
    updated: obj,
    manager,
    operation: 'Update',
    apiVersion: store.apiVersion,
    subresource: ctx.requestInfo.subresource,
    now: rfc3339(),
    schema: patchSchemaFor(store.apiVersion, store.def.kind),
  });
  meta.managedFields = updated;
}

async function deleteOptions(req: Request, q: URLSearchParams): Promise<DeleteOptions> {
  let body: Record<string, unknown> = {};
  const raw = await readBody(req);
  if (raw.length && raw.toString().trim()) {
    const decoded = decodeBody(raw, mediaType(req) || 'application/json').obj;
    if (typeof decoded !== 'object' || decoded === null)
      throw newBadRequest('the delete options body must be a DeleteOptions object');
    body = decoded as Record<string, unknown>;
  }
  const grace =
    intParam(q, 'gracePeriodSeconds', -1) ??
    (typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined);
  const policy = q.get('propagationPolicy') ?? (body.propagationPolicy as string | undefined);
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy))
    throw new StatusError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`
    );
  const pre = body.preconditions as DeleteOptions['preconditions'];
  return {
    gracePeriodSeconds: grace === undefined ? undefined : Math.max(0, grace),
    propagationPolicy: policy,
    preconditions: pre,
  };
}
