// An in-memory RBACLister over fixed lists, for tests and for evaluating a policy without a server
// (k8s rbac/validation StaticRoles).
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { RBACLister } from './rbac.js';

export interface StaticPolicy {
  roles?: Role[];
  roleBindings?: RoleBinding[];
  clusterRoles?: ClusterRole[];
  clusterRoleBindings?: ClusterRoleBinding[];
}

export function staticRBACLister(p: StaticPolicy): RBACLister {
  return {
    getRole: (ns, name) => p.roles?.find((r) => r.metadata?.namespace === ns && r.metadata.name === name),
    getClusterRole: (name) => p.clusterRoles?.find((r) => r.metadata?.name === name),
    listRoleBindings: (ns) => (p.roleBindings ?? []).filter((b) => b.metadata?.namespace === ns),
    listClusterRoleBindings: () => p.clusterRoleBindings ?? [],
  };
}
