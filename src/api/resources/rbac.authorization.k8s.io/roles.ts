// rbac.authorization.k8s.io/v1 roles.
import type { ResourceDef } from '../../resource.js';
import { rbacGroup, validateRules } from './rbac.js';

export const roles: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  resource: 'roles',
  singular: 'role',
  kind: 'Role',
  listKind: 'RoleList',
  namespaced: true,
  strategy: { namePathSegmentOnly: true, validate: (role) => validateRules(role, true) },
};
