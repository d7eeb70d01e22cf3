// Subresources that are not plain status writes: pods/binding (the scheduler's write), namespaces/finalize,
// certificatesigningrequests/approval. Streaming subresources (log, exec, attach, portforward, proxy) are
// registered here by the proxy component of a later issue.
import { newBadRequest, newConflict, StatusError } from '../../api/errors.js';
import { path, type FieldError } from '../../api/field.js';
import { clone, rfc3339 } from '../../api/meta.js';
import type { KubeObject } from '../../api/resource.js';
import type { RequestContext, Request, Response } from '../context.js';
import { decodeBody, mediaType, readBody } from '../endpoints/body.js';
import { writeParams } from '../endpoints/query.js';
import { writeJSON } from '../endpoints/responses.js';
import type { AdmissionChain } from '../admission/interface.js';
import type { RegistryStore } from './store.js';

export type SubresourceHandler = (
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  admission: AdmissionChain
) => Promise<void>;

export class Subresources {
  readonly #handlers = new Map<string, SubresourceHandler>();

  constructor(private readonly admission: AdmissionChain) {
    this.register('', 'pods', 'binding', bindPod);
    this.register('', 'namespaces', 'finalize', finalizeNamespace);
    this.register('certificates.k8s.io', 'certificatesigningrequests', 'approval', approveCSR);
  }

  register(group: string, resource: string, subresource: string, h: SubresourceHandler): void {
    this.#handlers.set(`${group}/${resource}/${subresource}`, h);
  }

  async serve(ctx: RequestContext, req: Request, res: Response, store: RegistryStore): Promise<void> {
    const ri = ctx.requestInfo;
    const h = this.#handlers.get(`${ri.apiGroup}/${ri.resource}/${ri.subresource}`);
    if (!h)
      throw new StatusError(
        404,
        'NotFound',
        `the server could not find the requested resource (${ri.resource}/${ri.subresource} is not served yet)`
      );
    return h(ctx, req, res, store, this.admission);
  }
}

async function readObject(req: Request): Promise<Record<string, any>> {
  const { obj } = decodeBody(await readBody(req), mediaType(req) || 'application/json');
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw newBadRequest('the body must be a JSON object');
  return obj as Record<string, any>;
}

/** POST pods/{name}/binding: sets spec.nodeName once (upstream registry/core/pod/storage BindingREST). */
async function bindPod(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  admission: AdmissionChain
): Promise<void> {
  if (ctx.requestInfo.verb !== 'create') throw new StatusError(405, 'MethodNotAllowed', 'binding only supports create');
  const binding = await readObject(req);
  const p = writeParams(ctx.url.searchParams);
  const ns = ctx.requestInfo.namespace;
  const name = ctx.requestInfo.name;
  if (binding.kind !== 'Binding')
    throw newBadRequest(`the kind in the data (${binding.kind}) does not match the expected kind (Binding)`);
  const errs: FieldError[] = [];
  if (binding.metadata?.name && binding.metadata.name !== name)
    errs.push(path('metadata.name').invalid(binding.metadata.name, 'must match the pod name'));
  const node = binding.target?.name;
  if (!node) errs.push(path('target.name').required());
  if (binding.target?.kind && binding.target.kind !== 'Node')
    errs.push(path('target.kind').notSupported(binding.target.kind, ['Node']));
  if (errs.length)
    throw new StatusError(422, 'Invalid', `Binding "${name}" is invalid: ${errs.map(String).join(', ')}`);
  await store.guaranteedUpdate(
    ns,
    name,
    { dryRun: p.dryRun, user: ctx.user, admission, subresource: 'binding' },
    (pod: KubeObject) => {
      if (pod.metadata?.deletionTimestamp)
        throw newConflict(store.gr, name, 'pod is being deleted, cannot be assigned to a host');
      const spec = (pod.spec ??= {}) as Record<string, any>;
      if (spec.nodeName)
        throw newConflict(store.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      spec.nodeName = node;
      const status = (pod.status ??= {}) as Record<string, any>;
      const conditions: Record<string, any>[] = (status.conditions ??= []);
      const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() };
      const i = conditions.findIndex((c) => c.type === 'PodScheduled');
      if (i >= 0) conditions[i] = cond;
      else conditions.push(cond);
      return pod;
    }
  );
  ctx.statusCode = 201;
  writeJSON(ctx, req, res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** PUT namespaces/{name}/finalize: the only way to change spec.finalizers; the last one removed completes deletion. */
async function finalizeNamespace(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  admission: AdmissionChain
): Promise<void> {
  if (ctx.requestInfo.verb !== 'update')
    throw new StatusError(405, 'MethodNotAllowed', 'finalize only supports update');
  const body = await readObject(req);
  const p = writeParams(ctx.url.searchParams);
  const finalizers: unknown = body.spec?.finalizers ?? [];
  if (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string'))
    throw newBadRequest('spec.finalizers must be a list of strings');
  const { object } = await store.guaranteedUpdate(
    ctx.requestInfo.name,
    ctx.requestInfo.name,
    { dryRun: p.dryRun, user: ctx.user, admission, subresource: 'finalize' },
    (ns) => {
      const next = clone(ns);
      (next.spec as Record<string, unknown>) = { ...(ns.spec as object), finalizers };
      return next;
    }
  );
  const spec = object.spec as { finalizers?: string[] } | undefined;
  if (object.metadata?.deletionTimestamp && !spec?.finalizers?.length && !p.dryRun) {
    try {
      await store.delete('', ctx.requestInfo.name, {}, { dryRun: false, user: ctx.user });
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
    }
  }
  writeJSON(ctx, req, res, 200, object);
}

const csrConditionTypes = ['Approved', 'Denied', 'Failed'];

/** PUT certificatesigningrequests/{name}/approval: only status.conditions change (Approved or Denied, never both). */
async function approveCSR(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  admission: AdmissionChain
): Promise<void> {
  if (ctx.requestInfo.verb !== 'update' && ctx.requestInfo.verb !== 'get')
    throw new StatusError(405, 'MethodNotAllowed', 'approval supports get and update');
  if (ctx.requestInfo.verb === 'get') return writeJSON(ctx, req, res, 200, await store.get('', ctx.requestInfo.name));
  const body = await readObject(req);
  const p = writeParams(ctx.url.searchParams);
  const conditions: Record<string, any>[] = body.status?.conditions ?? [];
  const errs: FieldError[] = [];
  conditions.forEach((c, i) => {
    if (!csrConditionTypes.includes(c.type))
      errs.push(path('status.conditions').index(i).child('type').notSupported(c.type, csrConditionTypes));
    if (c.status !== undefined && !['True', 'False', 'Unknown'].includes(c.status))
      errs.push(
        path('status.conditions').index(i).child('status').notSupported(c.status, ['True', 'False', 'Unknown'])
      );
  });
  const has = (t: string): boolean => conditions.some((c) => c.type === t && (c.status ?? 'True') === 'True');
  if (has('Approved') && has('Denied'))
    errs.push(
      path('status.conditions').invalid('Approved, Denied', 'Approved and Denied conditions are mutually exclusive')
    );
  if (errs.length)
    throw new StatusError(
      422,
      'Invalid',
      `CertificateSigningRequest.certificates.k8s.io "${ctx.requestInfo.name}" is invalid: ${errs.map(String).join(', ')}`
    );
  const { object } = await store.guaranteedUpdate(
    '',
    ctx.requestInfo.name,
    { dryRun: p.dryRun, user: ctx.user, admission, subresource: 'approval' },
    (csr) => {
      if (body.metadata?.resourceVersion) (csr.metadata ??= {}).resourceVersion = body.metadata.resourceVersion;
      const now = rfc3339();
      const status = (csr.status ??= {}) as Record<string, any>;
      status.conditions = conditions.map((c) => ({
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: now,
        ...c,
      }));
      return csr;
    }
  );
  writeJSON(ctx, req, res, 200, object);
}
