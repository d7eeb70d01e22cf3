// k8s.io/api/rbac/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const rbacMessages: MessageSpecs = {
  'rbac.AggregationRule': [[1, 'clusterRoleSelectors', '[]meta.LabelSelector']],
  'rbac.ClusterRole': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'rules', '[]rbac.PolicyRule'],
    [3, 'aggregationRule', '*rbac.AggregationRule'],
  ],
  'rbac.ClusterRoleBinding': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'subjects', '[]rbac.Subject'],
    [3, 'roleRef', 'rbac.RoleRef'],
  ],
  'rbac.PolicyRule': [
    [1, 'verbs', '[]string'],
    [2, 'apiGroups', '[]string'],
    [3, 'resources', '[]string'],
    [4, 'resourceNames', '[]string'],
    [5, 'nonResourceURLs', '[]string'],
  ],
  'rbac.Role': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'rules', '[]rbac.PolicyRule'],
  ],
  'rbac.RoleBinding': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'subjects', '[]rbac.Subject'],
    [3, 'roleRef', 'rbac.RoleRef'],
  ],
  'rbac.RoleRef': [
    [1, 'apiGroup', 'string!'],
    [2, 'kind', 'string!'],
    [3, 'name', 'string!'],
  ],
  'rbac.Subject': [
    [1, 'kind', 'string!'],
    [2, 'apiGroup', 'string'],
    [3, 'name', 'string!'],
    [4, 'namespace', 'string'],
  ],
};
