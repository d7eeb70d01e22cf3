// Nodes (upstream printNode): STATUS from the Ready condition plus cordoning, ROLES from role labels.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wide, type Printer } from './columns.js';
import { docs } from './descriptions.js';

const labelNodeRolePrefix = 'node-role.kubernetes.io/';
/** The older role label, whose value is the role. */
const nodeLabelRole = 'kubernetes.io/role';

function nodeStatus(node: Node): string {
  // The last Ready condition wins, as in upstream's map by type.
  const ready = node.status?.conditions?.findLast((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

export function nodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(labelNodeRolePrefix)) {
      const role = k.slice(labelNodeRolePrefix.length);
      if (role) roles.add(role);
    } else if (k === nodeLabelRole && v) {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

function address(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

function nodeCells(obj: KubeObject, now: Date): unknown[] {
  const node = obj as Node;
  const info = node.status?.nodeInfo;
  return [
    nameOf(obj),
    nodeStatus(node),
    nodeRoles(node.metadata?.labels).join(',') || '<none>',
    ageOf(obj, now),
    info?.kubeletVersion ?? '',
    address(node, 'InternalIP'),
    address(node, 'ExternalIP'),
    info?.osImage || '<unknown>',
    info?.kernelVersion || '<unknown>',
    info?.containerRuntimeVersion || '<unknown>',
  ];
}

export const nodePrinter: Printer = {
  columns: [
    nameColumn,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn,
    column('Version', 'string', docs.nodeSystemInfo.kubeletVersion),
    column('Internal-IP', 'string', docs.nodeStatus.addresses, { priority: wide }),
    column('External-IP', 'string', docs.nodeStatus.addresses, { priority: wide }),
    column('OS-Image', 'string', docs.nodeSystemInfo.osImage, { priority: wide }),
    column('Kernel-Version', 'string', docs.nodeSystemInfo.kernelVersion, { priority: wide }),
    column('Container-Runtime', 'string', docs.nodeSystemInfo.containerRuntimeVersion, { priority: wide }),
  ],
  cells: nodeCells,
};
