// Role-based access control (k8s plugin/pkg/auth/authorizer/rbac + pkg/registry/rbac/validation/rule.go).
// Rules only ever add permissions, so RBAC answers allow or noOpinion, never deny: another authorizer in the
// union may still allow what RBAC does not.
import type { NonResourceRule } from 'kubernetes-types/authorization/v1.js';
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
  Subject,
} from 'kubernetes-types/rbac/v1.js';
import { aggregateMessage } from './interface.js';
import type {
  Attributes,
  Authorizer,
  AuthorizerResult,
  ResourceRule,
  RuleResolver,
  RulesReviewStatus,
  UserInfo,
} from './interface.js';

/** The informer-backed read side RBAC evaluates against; `undefined` means not found. */
export interface RBACLister {
  getRole(namespace: string, name: string): Role | undefined;
  getClusterRole(name: string): ClusterRole | undefined;
  listRoleBindings(namespace: string): RoleBinding[];
  listClusterRoleBindings(): ClusterRoleBinding[];
}

const all = '*';

/** `system:serviceaccount:<ns>:<name>`, the user name a service account token authenticates as. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === all || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === all || g === group);
}

/** `combined` is `resource` or `resource/subresource`; a rule of `*\/subresource` matches that subresource of anything. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some(
    (r) => r === all || r === combined || (subresource !== '' && r === `*/${subresource}`)
  );
}

/** An empty resourceNames list matches every name, including the empty name of list, watch and create. */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** A rule URL ending in `*` matches by prefix (`/apis/*` covers `/apis/apps/v1`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === all || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, '')))
  );
}

/** Whether one rule grants the request (k8s rbac.RuleAllows). */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return (
    apiGroupMatches(rule, a.apiGroup) &&
    resourceMatches(rule, combined, a.subresource) &&
    resourceNameMatches(rule, a.name)
  );
}

/**
 * Whether a binding subject names this user. A ServiceAccount subject without a namespace means the
 * binding's own namespace, so a RoleBinding can name its local service accounts unqualified.
 */
function appliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === serviceAccountUsername(ns, subject.name);
    }
    default:
      return false;
  }
}

const q = (s: string): string => JSON.stringify(s);

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${q(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${q(s.name)}`;
}

/** One rule that applies to the user, or an error met while resolving a binding's role. */
type Visit = { rule: PolicyRule; source: () => string } | { error: string };

export class RBACAuthorizer implements Authorizer, RuleResolver {
  readonly #lister: RBACLister;

  constructor(lister: RBACLister) {
    this.#lister = lister;
  }

  async authorize(a: Attributes): Promise<AuthorizerResult> {
    const errors: string[] = [];
    for (const v of this.#visitRulesFor(a.user, a.namespace)) {
      if ('error' in v) errors.push(v.error);
      else if (ruleAllows(a, v.rule)) return { decision: 'allow', reason: `RBAC: allowed by ${v.source()}` };
    }
    // A missing role only means fewer rules; say so, but it is still noOpinion (k8s authorizingVisitor).
    return { decision: 'noOpinion', reason: errors.length > 0 ? `RBAC: ${aggregateMessage(errors)}` : '' };
  }

  /** Every rule that applies to `user` in `namespace` (cluster-wide bindings included), for SelfSubjectRulesReview. */
  rulesFor(user: UserInfo, namespace: string): RulesReviewStatus {
    const resourceRules: ResourceRule[] = [];
    const nonResourceRules: NonResourceRule[] = [];
    const errors: string[] = [];
    for (const v of this.#visitRulesFor(user, namespace)) {
      if ('error' in v) {
        errors.push(v.error);
        continue;
      }
      // Empty lists are left out, as Go's omitempty leaves them out of the wire form.
      const { verbs, apiGroups, resources, resourceNames, nonResourceURLs } = v.rule;
      if (resources?.length) {
        const r: ResourceRule = { verbs };
        if (apiGroups?.length) r.apiGroups = apiGroups;
        r.resources = resources;
        if (resourceNames?.length) r.resourceNames = resourceNames;
        resourceRules.push(r);
      }
      if (nonResourceURLs?.length) nonResourceRules.push({ verbs, nonResourceURLs });
    }
    const status: RulesReviewStatus = { resourceRules, nonResourceRules, incomplete: false };
    if (errors.length > 0) status.evaluationError = aggregateMessage(errors);
    return status;
  }

  // ClusterRoleBindings first, then the namespace's RoleBindings, as upstream visits them; a generator so
  // authorize stops at the first allowing rule without resolving the rest.
  *#visitRulesFor(user: UserInfo, namespace: string): Generator<Visit> {
    for (const binding of this.#lister.listClusterRoleBindings()) {
      const subject = binding.subjects?.find((s) => appliesToUser(user, s, ''));
      if (!subject) continue;
      const rules = this.#roleRefRules(binding.roleRef, '');
      if (typeof rules === 'string') {
        yield { error: rules };
        continue;
      }
      const source = (): string =>
        `ClusterRoleBinding ${q(binding.metadata?.name ?? '')} of ${binding.roleRef.kind} ${q(binding.roleRef.name)} to ${describeSubject(subject, '')}`;
      for (const rule of rules) yield { rule, source };
    }
    if (namespace === '') return;
    for (const binding of this.#lister.listRoleBindings(namespace)) {
      const subject = binding.subjects?.find((s) => appliesToUser(user, s, namespace));
      if (!subject) continue;
      const rules = this.#roleRefRules(binding.roleRef, namespace);
      if (typeof rules === 'string') {
        yield { error: rules };
        continue;
      }
      const source = (): string =>
        `RoleBinding ${q(`${binding.metadata?.name ?? ''}/${namespace}`)} of ${binding.roleRef.kind} ${q(binding.roleRef.name)} to ${describeSubject(subject, namespace)}`;
      for (const rule of rules) yield { rule, source };
    }
  }

  /** The referenced role's rules, or the error text upstream's listers would give. */
  #roleRefRules(ref: RoleRef, bindingNamespace: string): PolicyRule[] | string {
    switch (ref.kind) {
      case 'Role': {
        const role = bindingNamespace ? this.#lister.getRole(bindingNamespace, ref.name) : undefined;
        return role ? (role.rules ?? []) : `role.rbac.authorization.k8s.io ${q(ref.name)} not found`;
      }
      case 'ClusterRole': {
        const role = this.#lister.getClusterRole(ref.name);
        return role ? (role.rules ?? []) : `clusterrole.rbac.authorization.k8s.io ${q(ref.name)} not found`;
      }
      default:
        return `unsupported role reference kind: ${q(ref.kind)}`;
    }
  }
}
