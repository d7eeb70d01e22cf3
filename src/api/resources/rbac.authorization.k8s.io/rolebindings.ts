// rbac.authorization.k8s.io/v1 rolebindings.
import type { ResourceDef } from '../../resource.js';
import { bindingStrategy, rbacGroup } from './rbac.js';

export const rolebindings: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  resource: 'rolebindings',
  singular: 'rolebinding',
  kind: 'RoleBinding',
  listKind: 'RoleBindingList',
  namespaced: true,
  strategy: bindingStrategy(true),
};
