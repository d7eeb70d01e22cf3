// k8s.io/api/policy/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const policyMessages: MessageSpecs = {
  'policy.Eviction': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'deleteOptions', '*meta.DeleteOptions'],
  ],
};
