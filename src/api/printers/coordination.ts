// Leases (upstream printLease).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, type Printer } from './columns.js';
import { docs } from './descriptions.js';

export const leasePrinter: Printer = {
  columns: [nameColumn, column('Holder', 'string', docs.leaseSpec.holderIdentity), ageColumn],
  cells: (obj, now) => [nameOf(obj), (obj as Lease).spec?.holderIdentity ?? '', ageOf(obj, now)],
};
