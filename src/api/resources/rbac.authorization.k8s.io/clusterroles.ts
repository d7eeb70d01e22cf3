// rbac.authorization.k8s.io/v1 clusterroles.
import type { ResourceDef } from '../../resource.js';
import { rbacGroup, validateAggregationRule, validateRules } from './rbac.js';

export const clusterroles: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  resource: 'clusterroles',
  singular: 'clusterrole',
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  namespaced: false,
  strategy: {
    namePathSegmentOnly: true,
    validate: (role) => [...validateRules(role, false), ...validateAggregationRule(role)],
  },
};
