// Rules all four RBAC resources share (k8s pkg/apis/rbac/validation, v1 defaults).
import { path, type FieldError, type FieldPath } from '../../field.js';
import { jsonEqual } from '../../meta.js';
import type { KubeObject, ResourceStrategy } from '../../resource.js';
import { arr, child, obj, objects, str, type JsonObject } from '../../validation/json.js';
import { isDNS1123Subdomain, isValidPathSegmentName } from '../../validation/names.js';
import { validateLabelName, validateLabels } from '../../validation/object-meta.js';

export const rbacGroup = 'rbac.authorization.k8s.io';

function validatePolicyRule(rule: JsonObject, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (arr(rule.verbs).length === 0) errs.push(p.child('verbs').required('verbs must contain at least one value'));
  const nonResourceURLs = arr(rule.nonResourceURLs);
  if (nonResourceURLs.length > 0) {
    if (namespaced)
      errs.push(
        p.child('nonResourceURLs').invalid(nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs')
      );
    if (arr(rule.apiGroups).length || arr(rule.resources).length || arr(rule.resourceNames).length) {
      errs.push(
        p
          .child('nonResourceURLs')
          .invalid(nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs')
      );
    }
    return errs;
  }
  if (arr(rule.apiGroups).length === 0)
    errs.push(p.child('apiGroups').required('resource rules must supply at least one api group'));
  if (arr(rule.resources).length === 0)
    errs.push(p.child('resources').required('resource rules must supply at least one resource'));
  return errs;
}

export function validateRules(role: KubeObject, namespaced: boolean): FieldError[] {
  return objects(role.rules).flatMap((rule, i) => validatePolicyRule(rule, namespaced, path('rules').index(i)));
}

export function validateAggregationRule(role: KubeObject): FieldError[] {
  const p = path('aggregationRule').child('clusterRoleSelectors');
  const rule = role.aggregationRule;
  if (rule == null) return [];
  const selectors = objects(obj(rule).clusterRoleSelectors);
  if (selectors.length === 0)
    return [p.required('at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return selectors.flatMap((s, i) => [
    ...validateLabels(s.matchLabels, p.index(i).child('matchLabels')),
    ...objects(s.matchExpressions).flatMap((e, j) =>
      validateLabelName(str(e.key), p.index(i).child('matchExpressions').index(j).child('key'))
    ),
  ]);
}

/** `apiGroup` defaults on v1: the RBAC group for roleRef, Users and Groups; empty for ServiceAccounts. */
export function defaultBinding(binding: KubeObject): void {
  const roleRef = child(binding, 'roleRef');
  if (!roleRef.apiGroup) roleRef.apiGroup = rbacGroup;
  for (const s of objects(binding.subjects)) {
    if (s.apiGroup === undefined || s.apiGroup === '') s.apiGroup = s.kind === 'ServiceAccount' ? '' : rbacGroup;
  }
}

function validateSubject(s: JsonObject, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(s.name);
  const apiGroup = str(s.apiGroup);
  if (!name) errs.push(p.child('name').required());
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...isDNS1123Subdomain(name).map((msg) => p.child('name').invalid(name, msg)));
      if (apiGroup) errs.push(p.child('apiGroup').notSupported(apiGroup, ['']));
      // A RoleBinding's ServiceAccount subject defaults to the binding's namespace.
      if (!namespaced && !str(s.namespace)) errs.push(p.child('namespace').required());
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(p.child('apiGroup').notSupported(apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(p.child('kind').notSupported(s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

export function validateBinding(binding: KubeObject, namespaced: boolean): FieldError[] {
  const p = path('roleRef');
  const roleRef = obj(binding.roleRef);
  const errs: FieldError[] = [];
  if (roleRef.apiGroup !== rbacGroup) errs.push(p.child('apiGroup').notSupported(roleRef.apiGroup, [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(str(roleRef.kind))) errs.push(p.child('kind').notSupported(roleRef.kind, kinds));
  const name = str(roleRef.name);
  if (!name) errs.push(p.child('name').required());
  else errs.push(...isValidPathSegmentName(name).map((msg) => p.child('name').invalid(name, msg)));
  objects(binding.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, path('subjects').index(i))));
  return errs;
}

/** The strategy of a binding: roleRef may never change (delete and recreate the binding instead). */
export function bindingStrategy(namespaced: boolean): ResourceStrategy {
  return {
    namePathSegmentOnly: true,
    defaults: defaultBinding,
    validate: (b) => validateBinding(b, namespaced),
    validateUpdate: (b, old) => {
      const errs = validateBinding(b, namespaced);
      if (!jsonEqual(b.roleRef, old.roleRef)) errs.push(path('roleRef').invalid(b.roleRef, 'cannot change roleRef'));
      return errs;
    },
  };
}
