// Server-side Table printers, one per resource, with upstream's columns (k8s pkg/printers/internalversion).
import { csrPrinter } from './certificates.js';
import type { Printer } from './columns.js';
import { leasePrinter } from './coordination.js';
import { configMapPrinter, namespacePrinter, secretPrinter, serviceAccountPrinter } from './core.js';
import { defaultPrinter } from './default.js';
import { endpointSlicePrinter, endpointsPrinter } from './endpoints.js';
import { coreEventPrinter, eventsEventPrinter } from './event.js';
import { nodePrinter } from './node.js';
import { podPrinter } from './pod.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac.js';
import { servicePrinter } from './service.js';

export { defaultPrinter } from './default.js';
export { humanDuration, translateTimestampSince } from './duration.js';
export { toTable, type IncludeObject, type ToTableOptions } from './table.js';
export type { Printer } from './columns.js';
export type * from './types.js';

/** Keyed `group/resource`; the core group is the empty string. */
const printers = new Map<string, Printer>([
  ['/pods', podPrinter],
  ['/namespaces', namespacePrinter],
  ['/nodes', nodePrinter],
  ['/services', servicePrinter],
  ['/endpoints', endpointsPrinter],
  ['/serviceaccounts', serviceAccountPrinter],
  ['/secrets', secretPrinter],
  ['/configmaps', configMapPrinter],
  ['/events', coreEventPrinter],
  ['events.k8s.io/events', eventsEventPrinter],
  ['coordination.k8s.io/leases', leasePrinter],
  ['certificates.k8s.io/certificatesigningrequests', csrPrinter],
  ['rbac.authorization.k8s.io/rolebindings', roleBindingPrinter],
  ['rbac.authorization.k8s.io/clusterrolebindings', clusterRoleBindingPrinter],
  ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
]);

/** The printer for a resource, or the default Name / Created At table (roles and clusterroles get that too). */
export function printerFor(group: string, resource: string): Printer {
  return printers.get(`${group}/${resource}`) ?? defaultPrinter;
}
