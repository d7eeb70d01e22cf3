// authorization.k8s.io/v1 access reviews (k8s pkg/apis/authorization/validation): create-only questions to the
// authorizer, answered in `status` and never stored. `kubectl auth can-i` sends SelfSubjectAccessReview,
// `--list` SelfSubjectRulesReview; webhooks and controllers send SubjectAccessReview.
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { isObject, obj, str } from '../../validation/json.js';

const createOnly = ['create'];

/** Upstream compares metadata with an empty ObjectMeta (managedFields cleared); `creationTimestamp: null` is empty. */
export function metadataIsEmpty(o: KubeObject, allowNamespace = false): boolean {
  return Object.entries(o.metadata ?? {}).every(
    ([k, v]) => v == null || k === 'managedFields' || (allowNamespace && k === 'namespace')
  );
}

function validateAttributes(spec: Record<string, unknown>, specPath = path('spec')): FieldError[] {
  const hasResource = isObject(spec.resourceAttributes);
  const hasNonResource = isObject(spec.nonResourceAttributes);
  if (hasResource && hasNonResource)
    return [
      specPath
        .child('nonResourceAttributes')
        .invalid(spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'),
    ];
  if (!hasResource && !hasNonResource)
    return [
      specPath
        .child('resourceAttributes')
        .invalid(
          spec.nonResourceAttributes ?? null,
          'exactly one of nonResourceAttributes or resourceAttributes must be specified'
        ),
    ];
  return [];
}

const emptyMetadata = (o: KubeObject, allowNamespace = false): FieldError[] =>
  metadataIsEmpty(o, allowNamespace) ? [] : [path('metadata').invalid(o.metadata, 'must be empty')];

function validateSubjectAccessReview(sar: KubeObject): FieldError[] {
  const spec = obj(sar.spec);
  const errs = [...emptyMetadata(sar), ...validateAttributes(spec)];
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (!str(spec.user) && groups.length === 0)
    errs.push(path('spec').child('user').invalid(str(spec.user), 'at least one of user or group must be specified'));
  return errs;
}

function validateLocalSubjectAccessReview(sar: KubeObject): FieldError[] {
  const spec = obj(sar.spec);
  const errs = [...emptyMetadata(sar, true)];
  if (isObject(spec.nonResourceAttributes))
    errs.push(
      path('spec')
        .child('nonResourceAttributes')
        .invalid(spec.nonResourceAttributes, 'disallowed on this kind of request')
    );
  else errs.push(...validateAttributes(spec));
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (!str(spec.user) && groups.length === 0)
    errs.push(path('spec').child('user').invalid(str(spec.user), 'at least one of user or group must be specified'));
  const ns = str(obj(spec.resourceAttributes).namespace);
  if (isObject(spec.resourceAttributes) && ns !== str(sar.metadata?.namespace))
    errs.push(path('spec').child('resourceAttributes').child('namespace').invalid(ns, 'must match metadata.namespace'));
  return errs;
}

const validateSelfSubjectAccessReview = (r: KubeObject): FieldError[] => [
  ...emptyMetadata(r),
  ...validateAttributes(obj(r.spec)),
];

const validateSelfSubjectRulesReview = (r: KubeObject): FieldError[] => emptyMetadata(r);

const review = (
  resource: string,
  kind: string,
  namespaced: boolean,
  validate: (o: KubeObject) => FieldError[]
): ResourceDef => ({
  group: 'authorization.k8s.io',
  version: 'v1',
  resource,
  singular: resource.replace(/s$/, ''),
  kind,
  listKind: `${kind}List`,
  namespaced,
  verbs: createOnly,
  strategy: { validate },
});

export const localsubjectaccessreviews = review(
  'localsubjectaccessreviews',
  'LocalSubjectAccessReview',
  true,
  validateLocalSubjectAccessReview
);
export const selfsubjectaccessreviews = review(
  'selfsubjectaccessreviews',
  'SelfSubjectAccessReview',
  false,
  validateSelfSubjectAccessReview
);
export const selfsubjectrulesreviews = review(
  'selfsubjectrulesreviews',
  'SelfSubjectRulesReview',
  false,
  validateSelfSubjectRulesReview
);
export const subjectaccessreviews = review(
  'subjectaccessreviews',
  'SubjectAccessReview',
  false,
  validateSubjectAccessReview
);
