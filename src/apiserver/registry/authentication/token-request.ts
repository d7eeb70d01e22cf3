// POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token (k8s pkg/registry/core/serviceaccount/storage/
// token.go): mints a bound service-account JWT. `kubectl create token` and the kubelet's projected token volumes
// call it; nothing is stored.
import { newBadRequest, newConflict, newInvalid, newNotFound, StatusError } from '../../../api/errors.js';
import { path, type FieldError } from '../../../api/field.js';
import { rfc3339 } from '../../../api/meta.js';
import type { KubeObject } from '../../../api/resource.js';
import { obj, str } from '../../../api/validation/json.js';
import type { ServiceAccountKeys } from '../../authn/serviceaccount-keys.js';
import {
  issueServiceAccountToken,
  type ServiceAccountTokenGetter,
  type TokenClaimsInput,
} from '../../authn/serviceaccount-token.js';
import { decodeBody, mediaType, readBody } from '../../endpoints/body.js';
import { writeParams } from '../../endpoints/query.js';
import { writeJSON } from '../../endpoints/responses.js';
import type { SubresourceHandler } from '../subresources.js';

/** v1 default lifetime, the floor and the ceiling upstream's validation enforces. */
export const defaultTokenExpirationSeconds = 3600;
const minTokenExpirationSeconds = 600;
const maxTokenExpirationSeconds = 2 ** 32;
/** The ServiceAccount admission plugin asks for exactly this; with extension on, such tokens last a year. */
export const warnOnlyBoundTokenExpirationSeconds = 3607;
const extendedTokenExpirationSeconds = 365 * 24 * 3600;

export interface TokenRequestConfig {
  keys: ServiceAccountKeys;
  /** The first --service-account-issuer. */
  issuer: string;
  apiAudiences: readonly string[];
  /** 0 = no cap. */
  maxExpirationSeconds: number;
  extendExpiration: boolean;
  getter: ServiceAccountTokenGetter;
}

function validateTokenRequest(tr: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(tr.spec);
  const exp = spec.expirationSeconds;
  const p = path('spec').child('expirationSeconds');
  if (typeof exp !== 'number' || !Number.isInteger(exp)) errs.push(p.invalid(exp, 'must be an integer'));
  else if (exp < minTokenExpirationSeconds)
    errs.push(p.invalid(exp, 'may not specify a duration less than 10 minutes'));
  else if (exp > maxTokenExpirationSeconds)
    errs.push(p.invalid(exp, 'may not specify a duration larger than 2^32 seconds'));
  if (
    spec.audiences !== undefined &&
    (!Array.isArray(spec.audiences) || spec.audiences.some((a) => typeof a !== 'string'))
  )
    errs.push(path('spec').child('audiences').invalid(spec.audiences, 'must be a list of strings'));
  return errs;
}

export function tokenRequestHandler(c: TokenRequestConfig): SubresourceHandler {
  return async (ctx, req, res, store, admission) => {
    const ri = ctx.requestInfo;
    if (ri.verb !== 'create') throw new StatusError(405, 'MethodNotAllowed', 'token only supports create');
    const p = writeParams(ctx.url.searchParams);
    const { obj: body } = decodeBody(await readBody(req), mediaType(req) || 'application/json');
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw newBadRequest('the body must be a JSON object of kind TokenRequest');
    const tr = body as KubeObject;
    if (tr.kind !== undefined && tr.kind !== 'TokenRequest')
      throw newBadRequest(`the kind in the data (${String(tr.kind)}) does not match the expected kind (TokenRequest)`);
    const meta = (tr.metadata ??= {});
    if (meta.name && meta.name !== ri.name)
      throw newBadRequest(`the name of the object (${meta.name}) does not match the name on the URL (${ri.name})`);
    if (meta.namespace && meta.namespace !== ri.namespace)
      throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
    meta.name = ri.name;
    meta.namespace = ri.namespace;
    const spec = (tr.spec ??= {}) as Record<string, unknown>;
    spec.expirationSeconds ??= defaultTokenExpirationSeconds;
    if (!Array.isArray(spec.audiences) || spec.audiences.length === 0) spec.audiences = [...c.apiAudiences];
    const errs = validateTokenRequest(tr);
    if (errs.length) throw newInvalid('TokenRequest', 'authentication.k8s.io', ri.name, errs);
    const attrs = {
      operation: 'CREATE' as const,
      def: store.def,
      subresource: 'token',
      namespace: ri.namespace,
      name: ri.name,
      object: tr,
      user: ctx.user,
      dryRun: p.dryRun,
    };
    await admission.admit(attrs);
    await admission.validate(attrs);

    const ns = ri.namespace;
    const sa = await c.getter.getServiceAccount(ns, ri.name);
    if (!sa) throw newNotFound(store.gr, ri.name);
    const input: TokenClaimsInput = {
      serviceAccount: sa,
      audiences: spec.audiences as string[],
      expirationSeconds: spec.expirationSeconds as number,
    };
    const ref = spec.boundObjectRef == null ? undefined : obj(spec.boundObjectRef);
    if (ref) await bind(c.getter, ns, ri.name, ref, input);
    if (c.maxExpirationSeconds > 0 && input.expirationSeconds > c.maxExpirationSeconds) {
      ctx.warnings.push(
        `requested expiration of ${input.expirationSeconds} seconds shortened to ${c.maxExpirationSeconds} seconds`
      );
      input.expirationSeconds = c.maxExpirationSeconds;
      spec.expirationSeconds = c.maxExpirationSeconds;
    }
    // Old clients read a projected token once; a pod-bound admission-made token therefore really lasts a year
    // and carries warnafter, so they keep working while modern clients refresh in time (upstream default).
    if (
      c.extendExpiration &&
      input.pod &&
      input.expirationSeconds === warnOnlyBoundTokenExpirationSeconds &&
      input.audiences.every((a) => c.apiAudiences.includes(a))
    )
      input.extendedSeconds = extendedTokenExpirationSeconds;
    const issued = p.dryRun ? undefined : await issueServiceAccountToken(c.keys, c.issuer, input);
    const now = new Date();
    const out = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { ...meta, creationTimestamp: rfc3339(now) },
      spec,
      status: {
        token: issued?.token ?? '',
        expirationTimestamp: rfc3339(
          issued?.expirationTimestamp ?? new Date(now.getTime() + input.expirationSeconds * 1000)
        ),
      },
    };
    ctx.statusCode = 201;
    writeJSON(ctx, req, res, 201, out);
  };
}

const podsGR = { group: '', resource: 'pods' };
const secretsGR = { group: '', resource: 'secrets' };
const nodesGR = { group: '', resource: 'nodes' };

/** Resolves spec.boundObjectRef: the object must exist, and match the uid when one is given. */
async function bind(
  getter: ServiceAccountTokenGetter,
  ns: string,
  saName: string,
  ref: Record<string, unknown>,
  input: TokenClaimsInput
): Promise<void> {
  const kind = str(ref.kind);
  const apiVersion = str(ref.apiVersion);
  const name = str(ref.name);
  const refPath = path('spec').child('boundObjectRef');
  if (apiVersion !== '' && apiVersion !== 'v1')
    throw newBadRequest(`cannot bind token to object of type ${apiVersion}, Kind=${kind}`);
  if (!name) throw newInvalid('TokenRequest', 'authentication.k8s.io', saName, [refPath.child('name').required()]);
  const checkUID = (o: KubeObject, gr: { group: string; resource: string }): void => {
    const uid = str(ref.uid);
    if (uid && o.metadata?.uid !== uid)
      throw newConflict(
        gr,
        name,
        `the UID in the bound object reference (${uid}) does not match the UID in record. The object might have been deleted and then recreated`
      );
  };
  switch (kind) {
    case 'Pod': {
      const pod = await getter.getPod(ns, name);
      if (!pod) throw newNotFound(podsGR, name);
      checkUID(pod, podsGR);
      const podSA = str(obj(pod.spec).serviceAccountName) || 'default';
      if (podSA !== saName)
        throw newBadRequest(
          `cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`
        );
      input.pod = pod;
      // The node the pod runs on goes into the token (ServiceAccountTokenPodNodeInfo, GA in 1.32).
      const nodeName = str(obj(pod.spec).nodeName);
      if (nodeName) {
        const node = await getter.getNode(nodeName);
        input.node = { name: nodeName, uid: node?.metadata?.uid };
      }
      return;
    }
    case 'Secret': {
      const secret = await getter.getSecret(ns, name);
      if (!secret) throw newNotFound(secretsGR, name);
      checkUID(secret, secretsGR);
      input.secret = secret;
      return;
    }
    case 'Node': {
      const node = await getter.getNode(name);
      if (!node) throw newNotFound(nodesGR, name);
      checkUID(node, nodesGR);
      input.node = { name, uid: node.metadata?.uid };
      return;
    }
    default:
      throw newBadRequest(`cannot bind token to object of type ${apiVersion || 'v1'}, Kind=${kind}`);
  }
}
