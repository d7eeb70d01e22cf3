// k8s.io/api/coordination/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const coordinationMessages: MessageSpecs = {
  'coordination.Lease': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'spec', 'coordination.LeaseSpec'],
  ],
  'coordination.LeaseSpec': [
    [1, 'holderIdentity', '*string'],
    [2, 'leaseDurationSeconds', '*int32'],
    [3, 'acquireTime', '*meta.MicroTime'],
    [4, 'renewTime', '*meta.MicroTime'],
    [5, 'leaseTransitions', '*int32'],
    [6, 'strategy', '*string'],
    [7, 'preferredHolder', '*string'],
  ],
};
