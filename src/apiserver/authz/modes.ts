// `--authorization-mode` (k8s pkg/kubeapiserver/authorizer/config.go): the named authorizers in the order given,
// in a union, behind the superuser authorizer that always lets `system:masters` through.
import { alwaysAllow, alwaysDeny } from './always.js';
import type { Attributes, Authorizer, RuleResolver } from './interface.js';
import { unionAuthorizer, unionRuleResolver } from './interface.js';

/** Upstream's mode names; ABAC and Webhook are upstream modes hubspoke does not implement. */
export const authorizationModes = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'] as const;
export type AuthorizationMode = (typeof authorizationModes)[number];
const upstreamOnlyModes = new Set(['ABAC', 'Webhook']);

/** kubeadm's and hubspoke's default; upstream's own default is AlwaysAllow. */
export const defaultAuthorizationModes: AuthorizationMode[] = ['Node', 'RBAC'];

/** Every problem with a mode list, each naming the flag, as upstream's BuiltInAuthorizationOptions.Validate. */
export function validateAuthorizationModes(modes: readonly string[]): string[] {
  const errs: string[] = [];
  if (modes.length === 0) errs.push('--authorization-mode: at least one authorization-mode must be passed');
  for (const m of modes) {
    if (upstreamOnlyModes.has(m))
      errs.push(`--authorization-mode: authorization-mode "${m}" is not supported by hubspoke (use Node and RBAC)`);
    else if (!(authorizationModes as readonly string[]).includes(m))
      errs.push(
        `--authorization-mode: authorization-mode "${m}" is not a valid mode (valid: ${authorizationModes.join(', ')})`
      );
  }
  if (new Set(modes).size !== modes.length)
    errs.push(`--authorization-mode: authorization-mode "${modes.join(',')}" has mode specified more than once`);
  return errs;
}

/** k8s user.SystemPrivilegedGroup. */
export const systemPrivilegedGroup = 'system:masters';

/** Allows any request from a member of one of `groups` (k8s authorizerfactory.NewPrivilegedGroups). */
export function privilegedGroups(...groups: string[]): Authorizer {
  return {
    authorize: async (a: Attributes) =>
      a.user.groups.some((g) => groups.includes(g))
        ? { decision: 'allow', reason: '' }
        : { decision: 'noOpinion', reason: '' },
  };
}

export interface ModeAuthorizers {
  node: Authorizer & RuleResolver;
  rbac: Authorizer & RuleResolver;
}

/**
 * The authorizer for validated `modes`, which also resolves rules (SelfSubjectRulesReview). The superuser
 * authorizer comes first whatever the modes, as upstream; it has no rules to list.
 */
export function newAuthorizer(modes: readonly AuthorizationMode[], by: ModeAuthorizers): Authorizer & RuleResolver {
  const chosen = modes.map((m) => {
    switch (m) {
      case 'AlwaysAllow':
        return alwaysAllow;
      case 'AlwaysDeny':
        return alwaysDeny;
      case 'Node':
        return by.node;
      case 'RBAC':
        return by.rbac;
    }
  });
  const union = unionAuthorizer(privilegedGroups(systemPrivilegedGroup), ...chosen);
  const rules = unionRuleResolver(...chosen);
  return { authorize: (a) => union.authorize(a), rulesFor: (user, ns) => rules.rulesFor(user, ns) };
}
