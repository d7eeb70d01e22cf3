// SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview (k8s
// pkg/registry/authorization/*): the question goes to the server's own authorizer (whatever
// --authorization-mode built) and the answer comes back in status.
import { newBadRequest } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/resource.js';
import { obj, str } from '../../../api/validation/json.js';
import {
  localsubjectaccessreviews,
  selfsubjectaccessreviews,
  selfsubjectrulesreviews,
  subjectaccessreviews,
} from '../../../api/resources/authorization.k8s.io/reviews.js';
import type { Attributes, Authorizer, RuleResolver, UserInfo } from '../../authz/interface.js';
import type { Review } from '../reviews.js';

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function extraOf(v: unknown): Record<string, string[]> | undefined {
  const entries = Object.entries(obj(v)).map(([k, vals]) => [k, strings(vals)] as const);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** k8s authorizationutil.AuthorizationAttributesFrom / ResourceAttributesFrom. */
export function attributesFromSpec(user: UserInfo, spec: Record<string, unknown>): Attributes {
  if (spec.resourceAttributes) {
    const r = obj(spec.resourceAttributes);
    return {
      user,
      verb: str(r.verb),
      resourceRequest: true,
      path: '',
      apiGroup: str(r.group),
      apiVersion: str(r.version),
      resource: str(r.resource),
      subresource: str(r.subresource),
      namespace: str(r.namespace),
      name: str(r.name),
    };
  }
  const n = obj(spec.nonResourceAttributes);
  return {
    user,
    verb: str(n.verb),
    resourceRequest: false,
    path: str(n.path),
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

/** The user a SubjectAccessReview asks about: spec.user, groups, extra, uid. */
function subjectOf(spec: Record<string, unknown>): UserInfo {
  const user: UserInfo = { name: str(spec.user), groups: strings(spec.groups) };
  if (str(spec.uid)) user.uid = str(spec.uid);
  const extra = extraOf(spec.extra);
  if (extra) user.extra = extra;
  return user;
}

async function decide(authorizer: Authorizer, review: KubeObject, a: Attributes): Promise<KubeObject> {
  const status: Record<string, unknown> = { allowed: false };
  try {
    const { decision, reason } = await authorizer.authorize(a);
    status.allowed = decision === 'allow';
    if (decision === 'deny') status.denied = true;
    if (reason) status.reason = reason;
  } catch (err) {
    // An authorizer that could not evaluate: the review still answers, as upstream's does.
    status.evaluationError = err instanceof Error ? err.message : String(err);
  }
  return { ...review, status };
}

function requestUser(user: UserInfo | undefined): UserInfo {
  if (!user) throw newBadRequest('no user present on request');
  return user;
}

export function accessReviews(authorizer: Authorizer, rules: RuleResolver): Review[] {
  return [
    {
      def: subjectaccessreviews,
      handle: async (_ctx, review) => {
        const spec = obj(review.spec);
        return decide(authorizer, review, attributesFromSpec(subjectOf(spec), spec));
      },
    },
    {
      def: localsubjectaccessreviews,
      handle: async (ctx, review) => {
        const ns = ctx.requestInfo.namespace;
        if (!ns) throw newBadRequest(`namespace is required on this type: ${ns}`);
        const spec = obj(review.spec);
        if (str(obj(spec.resourceAttributes).namespace) !== ns)
          throw newBadRequest(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
        return decide(authorizer, review, attributesFromSpec(subjectOf(spec), spec));
      },
    },
    {
      def: selfsubjectaccessreviews,
      handle: async (ctx, review) =>
        decide(authorizer, review, attributesFromSpec(requestUser(ctx.user), obj(review.spec))),
    },
    {
      def: selfsubjectrulesreviews,
      handle: async (ctx, review) => {
        const user = requestUser(ctx.user);
        const ns = str(obj(review.spec).namespace);
        if (!ns) throw newBadRequest('no namespace on request');
        return { ...review, status: rules.rulesFor(user, ns) };
      },
    },
  ];
}
