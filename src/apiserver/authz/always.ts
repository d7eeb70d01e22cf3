// The trivial authorizers of `--authorization-mode=AlwaysAllow|AlwaysDeny` (k8s authorizerfactory/builtin.go).
import type { Authorizer, RuleResolver } from './interface.js';

export const alwaysAllow: Authorizer & RuleResolver = {
  authorize: async () => ({ decision: 'allow', reason: '' }),
  rulesFor: () => ({
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  }),
};

// Upstream answers noOpinion, not deny, so a union can still put another authorizer after it.
export const alwaysDeny: Authorizer & RuleResolver = {
  authorize: async () => ({ decision: 'noOpinion', reason: 'Everything is forbidden.' }),
  rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
};
