// core/v1 services (k8s pkg/registry/core/service). ClusterIP and NodePort allocation is the registry's
// (RegistryHooks.beforeCreate), as is carrying allocated values over on update (upstream's patchAllocatedValues).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef, ResourceStrategy } from '../../resource.js';
import { isValidIP } from '../../validation/ip.js';
import { arr, child, obj, objects, str } from '../../validation/json.js';
import { isDNS1123Subdomain, nameIsDNS1035Label, type NameValidator } from '../../validation/names.js';
import { validateLabels } from '../../validation/object-meta.js';
import { validateDNS1123Label, validatePortNum, validatePortNumOrName, validateProtocol } from './ports.js';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const sessionAffinities = ['ClientIP', 'None'];

function defaultService(svc: KubeObject): void {
  const spec = child(svc, 'spec');
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') spec.sessionAffinityConfig ??= { clientIP: { timeoutSeconds: 10800 } };
  for (const port of objects(spec.ports)) {
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  // clusterIP and clusterIPs name the same primary address; a client may send either.
  if (typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIPs === undefined)
    spec.clusterIPs = [spec.clusterIP];
  if (spec.clusterIP === undefined && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') {
    spec.clusterIP = spec.clusterIPs[0];
  }
  const status = child(svc, 'status');
  status.loadBalancer ??= {};
}

const isHeadless = (spec: Record<string, unknown>): boolean => spec.clusterIP === 'None';

function validateService(svc: KubeObject): FieldError[] {
  const p = path('spec');
  const spec = obj(svc.spec);
  const type = str(spec.type);
  const errs: FieldError[] = [];
  const ports = objects(spec.ports);
  if (!serviceTypes.includes(type)) errs.push(p.child('type').notSupported(spec.type, serviceTypes));
  if (type === 'ExternalName') {
    const name = str(spec.externalName);
    if (!name) errs.push(p.child('externalName').required());
    else errs.push(...isDNS1123Subdomain(name).map((msg) => p.child('externalName').invalid(name, msg)));
  } else if (ports.length === 0 && !isHeadless(spec)) {
    errs.push(p.child('ports').required());
  }
  const requireName = ports.length > 1;
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const pp = p.child('ports').index(i);
    const name = str(port.name);
    if (requireName && !name) errs.push(pp.child('name').required());
    else if (name) {
      errs.push(...validateDNS1123Label(name, pp.child('name')));
      if (names.has(name)) errs.push(pp.child('name').duplicate(name));
      names.add(name);
    }
    errs.push(...validatePortNum(port.port, pp.child('port')));
    errs.push(...validateProtocol(port.protocol, pp.child('protocol')));
    if (port.targetPort !== undefined) errs.push(...validatePortNumOrName(port.targetPort, pp.child('targetPort')));
    if (port.nodePort) {
      if (type === 'ClusterIP') errs.push(pp.child('nodePort').forbidden("may not be used when `type` is 'ClusterIP'"));
      else errs.push(...validatePortNum(port.nodePort, pp.child('nodePort')));
    }
    const key = `${str(port.protocol)}/${String(port.port)}`;
    if (seen.has(key)) errs.push(pp.duplicate({ protocol: port.protocol, port: port.port }));
    seen.add(key);
  });
  arr(spec.clusterIPs).forEach((ip, i) => {
    if (ip === 'None' || ip === '') return;
    if (isValidIP(p, str(ip)).length) {
      errs.push(p.child('clusterIPs').index(i).invalid(ip, "must be empty, 'None', or a valid IP address"));
    }
  });
  if (spec.sessionAffinity !== undefined && !sessionAffinities.includes(str(spec.sessionAffinity))) {
    errs.push(p.child('sessionAffinity').notSupported(spec.sessionAffinity, sessionAffinities));
  }
  errs.push(...validateLabels(spec.selector, p.child('selector')));
  return errs;
}

function validateServiceUpdate(svc: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateService(svc);
  const spec = obj(svc.spec);
  const oldSpec = obj(old.spec);
  // The primary cluster IP is fixed for the life of the service, unless it is or becomes an ExternalName.
  if (spec.type !== 'ExternalName' && oldSpec.type !== 'ExternalName') {
    const oldIPs = arr(oldSpec.clusterIPs);
    const newIPs = arr(spec.clusterIPs);
    if (oldIPs.length > 0 && newIPs.length > 0 && oldIPs[0] !== newIPs[0]) {
      errs.push(path('spec').child('clusterIPs').index(0).invalid(newIPs, 'may not change once set'));
    }
  }
  return errs;
}

const strategy: ResourceStrategy & { nameValidator: NameValidator } = {
  // Service names become DNS labels of the cluster domain: RFC 1035, so they start with a letter.
  nameValidator: nameIsDNS1035Label,
  defaults: defaultService,
  validate: validateService,
  validateUpdate: validateServiceUpdate,
};

export const services: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'services',
  singular: 'service',
  kind: 'Service',
  listKind: 'ServiceList',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status', 'proxy'],
  hasStatus: true,
  strategy,
};
