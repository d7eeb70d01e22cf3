// The create-only review resources (TokenReview, SelfSubjectReview, the access reviews): each POST is a question
// answered in the returned object's status; nothing is stored and no other verb exists (upstream's
// rest.Creater-only storage). Served ahead of the registry store for their group/resource.
import { newBadRequest, newInvalid, newMethodNotSupported, StatusError } from '../../api/errors.js';
import { apiVersionOf, type KubeObject, type ResourceDef } from '../../api/resource.js';
import type { RequestContext, Request, Response } from '../context.js';
import { decodeBody, mediaType, readBody } from '../endpoints/body.js';
import { writeJSON } from '../endpoints/responses.js';

/** Answers one validated review: returns the object to send back (status filled in). */
export type ReviewHandler = (ctx: RequestContext, review: KubeObject) => Promise<KubeObject>;

export interface Review {
  def: ResourceDef;
  /** Versions answered besides def.version (SelfSubjectReview v1beta1 for kubectl 1.27), not in discovery. */
  alsoVersions?: string[];
  handle: ReviewHandler;
}

export class Reviews {
  readonly #byResource = new Map<string, Review>();

  constructor(reviews: Review[]) {
    for (const r of reviews) this.#byResource.set(`${r.def.group}/${r.def.resource}`, r);
  }

  /** Whether this definition is a review (so no registry store is made for it). */
  has(def: ResourceDef): boolean {
    return this.#byResource.get(`${def.group}/${def.resource}`)?.def === def;
  }

  /** Serves the request if it addresses a review; false otherwise. */
  async serve(ctx: RequestContext, req: Request, res: Response): Promise<boolean> {
    const ri = ctx.requestInfo;
    const r = this.#byResource.get(`${ri.apiGroup}/${ri.resource}`);
    if (!r || (ri.apiVersion !== r.def.version && !r.alsoVersions?.includes(ri.apiVersion))) return false;
    const gr = { group: r.def.group, resource: r.def.resource };
    if (ri.subresource || ri.name)
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (!r.def.namespaced && ri.namespace)
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (ri.verb !== 'create') throw newMethodNotSupported(gr, ri.verb);
    const apiVersion = apiVersionOf({ group: r.def.group, version: ri.apiVersion });
    const review = await readReview(req, r.def.kind, apiVersion);
    if (r.def.namespaced) {
      const meta = (review.metadata ??= {});
      if (meta.namespace && meta.namespace !== ri.namespace)
        throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = ri.namespace;
    }
    const errs = r.def.strategy.validate?.(review) ?? [];
    if (errs.length) throw newInvalid(r.def.kind, r.def.group, review.metadata?.name ?? '', errs);
    const answer = await r.handle(ctx, review);
    ctx.statusCode = 201;
    writeJSON(ctx, req, res, 201, { ...answer, apiVersion, kind: r.def.kind });
    return true;
  }
}

async function readReview(req: Request, kind: string, apiVersion: string): Promise<KubeObject> {
  const { obj } = decodeBody(await readBody(req), mediaType(req) || 'application/json');
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw newBadRequest(`the body must be a JSON object of kind ${kind}`);
  const o = obj as KubeObject;
  if (o.kind !== undefined && o.kind !== kind)
    throw newBadRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${kind})`);
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersion)
    throw newBadRequest(
      `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`
    );
  return o;
}
