// core/v1 nodes (k8s pkg/registry/core/node).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { isValidCIDR } from '../../validation/ip.js';
import { arr, isObject, obj, str } from '../../validation/json.js';
import { validateTaints } from './taints.js';

function defaultNode(node: KubeObject): void {
  // Allocatable defaults to capacity (SetDefaults_NodeStatus).
  const status = node.status;
  if (isObject(status) && isObject(status.capacity) && status.allocatable === undefined) {
    status.allocatable = { ...status.capacity };
  }
}

function validateNode(node: KubeObject): FieldError[] {
  const p = path('spec');
  const spec = obj(node.spec);
  const errs = validateTaints(spec.taints, p.child('taints'));
  arr(spec.podCIDRs).forEach((cidr, i) => errs.push(...isValidCIDR(p.child('podCIDRs').index(i), str(cidr))));
  if (spec.podCIDR !== undefined && str(spec.podCIDR) !== '')
    errs.push(...isValidCIDR(p.child('podCIDR'), str(spec.podCIDR)));
  return errs;
}

function validateNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateNode(node);
  const p = path('spec');
  const spec = obj(node.spec);
  const oldSpec = obj(old.spec);
  const oldCIDRs = arr(oldSpec.podCIDRs);
  if (oldCIDRs.length > 0 && JSON.stringify(oldCIDRs) !== JSON.stringify(arr(spec.podCIDRs))) {
    errs.push(p.child('podCIDRs').forbidden('node updates may not change podCIDR except from "" to valid'));
  }
  if (str(oldSpec.providerID) && str(oldSpec.providerID) !== str(spec.providerID)) {
    errs.push(p.child('providerID').forbidden('node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

export const nodes: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'nodes',
  singular: 'node',
  kind: 'Node',
  listKind: 'NodeList',
  namespaced: false,
  shortNames: ['no'],
  subresources: ['status', 'proxy'],
  hasStatus: true,
  strategy: {
    defaults: defaultNode,
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
    selectableFields: (node) => ({ 'spec.unschedulable': String(obj(node.spec).unschedulable === true) }),
  },
};
