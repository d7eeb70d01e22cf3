// PATCH in its four forms (upstream handlers/patch.go): JSON patch, JSON merge patch, strategic merge patch, and
// server-side apply. The patch is re-applied to the freshest object on every optimistic-concurrency retry.
import jsonpatch from 'fast-json-patch';
import { newBadRequest, StatusError } from '../../api/errors.js';
import { rfc3339 } from '../../api/meta.js';
import type { KubeObject } from '../../api/resource.js';
import {
  applyPatch,
  newApplyConflict,
  patchSchemaFor,
  PatchError,
  strategicMergePatch,
} from '../../api/patch/index.js';
import type { RequestContext, Request } from '../context.js';
import type { Operation, RegistryStore } from '../registry/store.js';
import { decodeBody } from './body.js';
import { checkObject, stampManagedFields, type EndpointsConfig } from './resource.js';
import type { WriteParams } from './query.js';

const patchTypes = new Set([
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
]);

export function isPatchType(t: string): boolean {
  return patchTypes.has(t);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function patchFailed(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new StatusError(422, 'Invalid', `the patch could not be applied: ${msg}`);
}

function applyOne(type: string, current: KubeObject, patch: unknown, apiVersion: string, kind: string): KubeObject {
  try {
    switch (type) {
      case 'application/json-patch+json': {
        if (!Array.isArray(patch)) throw newBadRequest('json patch must be a JSON array of operations');
        const errs = jsonpatch.validate(patch as jsonpatch.Operation[], current);
        if (errs) throw newBadRequest(`invalid json patch: ${errs.message.split('\n')[0]}`);
        return jsonpatch.applyPatch(current, patch as jsonpatch.Operation[], false, false).newDocument;
      }
      case 'application/merge-patch+json':
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
          throw newBadRequest('merge patch must be a JSON object');
        return mergePatch(current, patch) as KubeObject;
      default:
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
          throw newBadRequest('strategic merge patch must be a JSON object');
        return strategicMergePatch(current, patch, patchSchemaFor(apiVersion, kind));
    }
  } catch (err) {
    if (err instanceof StatusError) throw err;
    if (err instanceof PatchError) throw err.toStatusError();
    throw patchFailed(err);
  }
}

export async function applyPatchRequest(
  ctx: RequestContext,
  req: Request,
  store: RegistryStore,
  ns: string,
  type: string,
  body: Buffer,
  p: WriteParams,
  op: Operation,
  c: EndpointsConfig
): Promise<{ object: KubeObject; created: boolean }> {
  const { obj: patch } = decodeBody(body, type === 'application/apply-patch+yaml' ? type : 'application/json');
  const name = ctx.requestInfo.name;
  const subresource = ctx.requestInfo.subresource;
  const kind = store.def.kind;
  if (type === 'application/apply-patch+yaml') return serverSideApply(ctx, store, ns, name, patch, p, op, c);
  const { object } = await store.guaranteedUpdate(ns, name, { ...op, subresource }, (current) => {
    const patched = applyOne(type, current, patch, store.apiVersion, kind);
    const checked = checkObject(ctx, store, patched, [], p, c);
    if (checked.metadata?.name !== name)
      throw newBadRequest(
        `the name of the object (${checked.metadata?.name ?? ''}) does not match the name on the URL (${name})`
      );
    stampManagedFields(ctx, req, store, checked, current, p);
    return checked;
  });
  return { object, created: false };
}

async function serverSideApply(
  ctx: RequestContext,
  store: RegistryStore,
  ns: string,
  name: string,
  patch: unknown,
  p: WriteParams,
  op: Operation,
  c: EndpointsConfig
): Promise<{ object: KubeObject; created: boolean }> {
  if (!p.fieldManager)
    throw new StatusError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    );
  const applied = checkObject(ctx, store, patch, [], p, c);
  if (applied.metadata?.name !== name)
    throw newBadRequest(
      `the name of the object (${applied.metadata?.name ?? ''}) does not match the name on the URL (${name})`
    );
  const schema = patchSchemaFor(store.apiVersion, store.def.kind);
  const apply = (live: KubeObject | null): KubeObject => {
    const result = applyPatch({
      live,
      applied,
      manager: p.fieldManager!,
      force: p.force,
      schema,
      now: rfc3339(),
      apiVersion: store.apiVersion,
    });
    if (result.conflicts) throw newApplyConflict(result.conflicts);
    return result.object;
  };
  return store.guaranteedUpdate(
    ns,
    name,
    { ...op, subresource: ctx.requestInfo.subresource },
    (current) => apply(current),
    async () => apply(null)
  );
}
