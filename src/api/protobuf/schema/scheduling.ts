// k8s.io/api/scheduling/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const schedulingMessages: MessageSpecs = {
  'scheduling.PriorityClass': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'value', 'int32!'],
    [3, 'globalDefault', 'bool'],
    [4, 'description', 'string'],
    [5, 'preemptionPolicy', '*string'],
  ],
};
