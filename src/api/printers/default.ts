// The table for types without a printer (k8s.io/apiserver/pkg/registry/rest defaultTableConvertor): the name and
// the creation time as an RFC 3339 date, not an age.
import { column, nameColumn, nameOf, type Printer } from './columns.js';
import { docs } from './descriptions.js';
import { parseTimestamp } from './duration.js';

/** Go formats a missing creation time as its zero time. */
const goZeroTimeRFC3339 = '0001-01-01T00:00:00Z';

/** time.RFC3339 in UTC: whole seconds, `Z`. */
function createdAt(timestamp: string | undefined): string {
  const t = parseTimestamp(timestamp);
  return t === undefined
    ? goZeroTimeRFC3339
    : new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export const defaultPrinter: Printer = {
  columns: [nameColumn, column('Created At', 'date', docs.objectMeta.creationTimestamp)],
  cells: (obj) => [nameOf(obj), createdAt(obj.metadata?.creationTimestamp)],
};
