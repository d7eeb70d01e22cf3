// The built-in API types hubspoke serves: discovery data and strategy for each, in upstream's discovery order.
import { apiVersionOf, type ResourceDef } from '../resource.js';
import { selfsubjectreviews, tokenreviews } from './authentication.k8s.io/reviews.js';
import {
  localsubjectaccessreviews,
  selfsubjectaccessreviews,
  selfsubjectrulesreviews,
  subjectaccessreviews,
} from './authorization.k8s.io/reviews.js';
import { certificatesigningrequests } from './certificates.k8s.io/certificatesigningrequests.js';
import { leases } from './coordination.k8s.io/leases.js';
import { configmaps } from './core/configmaps.js';
import { endpoints } from './core/endpoints.js';
import { events as coreEvents } from './core/events.js';
import { namespaces } from './core/namespaces.js';
import { nodes } from './core/nodes.js';
import { pods } from './core/pods.js';
import { secrets } from './core/secrets.js';
import { serviceaccounts } from './core/serviceaccounts.js';
import { services } from './core/services.js';
import { endpointslices } from './discovery.k8s.io/endpointslices.js';
import { events } from './events.k8s.io/events.js';
import { clusterrolebindings } from './rbac.authorization.k8s.io/clusterrolebindings.js';
import { clusterroles } from './rbac.authorization.k8s.io/clusterroles.js';
import { rolebindings } from './rbac.authorization.k8s.io/rolebindings.js';
import { roles } from './rbac.authorization.k8s.io/roles.js';

export { validateCSRStatusUpdate } from './certificates.k8s.io/certificatesigningrequests.js';
export { podQOSClass } from './core/pod-defaults.js';

/**
 * Named groups in the order upstream's /apis lists them (the aggregator's group priorities), whether or not
 * hubspoke serves them; the core group `''` (/api) comes first.
 */
export const apiGroupOrder = [
  '',
  'apiregistration.k8s.io',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
];

/** Every built-in resource, sorted by group in `apiGroupOrder`, then as upstream lists them within a group. */
export const builtinResources: readonly ResourceDef[] = [
  // core/v1, alphabetical as /api/v1 lists them.
  configmaps,
  endpoints,
  coreEvents,
  namespaces,
  nodes,
  pods,
  secrets,
  serviceaccounts,
  services,
  events,
  selfsubjectreviews,
  tokenreviews,
  localsubjectaccessreviews,
  selfsubjectaccessreviews,
  selfsubjectrulesreviews,
  subjectaccessreviews,
  certificatesigningrequests,
  clusterrolebindings,
  clusterroles,
  rolebindings,
  roles,
  leases,
  endpointslices,
];

/** The groups served, in discovery order. */
export function servedGroups(resources: readonly ResourceDef[] = builtinResources): string[] {
  const groups = new Set(resources.map((r) => r.group));
  return apiGroupOrder.filter((g) => groups.has(g));
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return builtinResources.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The resource for an object's `apiVersion` and `kind` (e.g. `v1`, `Pod`). */
export function findByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return builtinResources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}
