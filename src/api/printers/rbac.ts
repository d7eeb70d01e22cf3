// RoleBindings and ClusterRoleBindings (upstream printRoleBinding, printClusterRoleBinding). Roles and
// ClusterRoles have no printer upstream: they get the default table.
import type { RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wide, type Printer } from './columns.js';
import { docs } from './descriptions.js';

/** Upstream's rbac.SubjectsStrings: users, groups and `namespace/name` service accounts. */
function subjectsStrings(subjects: Subject[]): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of subjects) {
    if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return { users, groups, serviceAccounts };
}

function bindingCells(obj: KubeObject, now: Date): unknown[] {
  const binding = obj as unknown as RoleBinding;
  const { users, groups, serviceAccounts } = subjectsStrings(binding.subjects ?? []);
  return [
    nameOf(obj),
    `${binding.roleRef?.kind ?? ''}/${binding.roleRef?.name ?? ''}`,
    ageOf(obj, now),
    users.join(', '),
    groups.join(', '),
    serviceAccounts.join(', '),
  ];
}

function bindingPrinter(roleRefDoc: string, kind: string): Printer {
  return {
    columns: [
      nameColumn,
      column('Role', 'string', roleRefDoc),
      ageColumn,
      column('Users', 'string', `Users in the ${kind}`, { priority: wide }),
      column('Groups', 'string', `Groups in the ${kind}`, { priority: wide }),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, { priority: wide }),
    ],
    cells: bindingCells,
  };
}

export const roleBindingPrinter = bindingPrinter(docs.roleBinding.roleRef, 'roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter(docs.clusterRoleBinding.roleRef, 'clusterRoleBinding');
