// rbac.authorization.k8s.io/v1 clusterrolebindings.
import type { ResourceDef } from '../../resource.js';
import { bindingStrategy, rbacGroup } from './rbac.js';

export const clusterrolebindings: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  resource: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  namespaced: false,
  strategy: bindingStrategy(false),
};
