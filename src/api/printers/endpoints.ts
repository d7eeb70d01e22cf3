// Endpoints and EndpointSlices (upstream printEndpoints, printEndpointSlice): at most three entries, then
// `+ N more...`.
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, type Printer } from './columns.js';
import { docs } from './descriptions.js';

const maxShown = 3;

/** Go's net.JoinHostPort: IPv6 addresses go in brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    // A headless service may have no ports: list the bare addresses.
    const ports = ss.ports?.length ? ss.ports.map((p) => p.port) : [undefined];
    for (const port of ports) {
      count += addresses.length;
      for (const addr of addresses) {
        if (list.length === maxShown) {
          more = true;
          break;
        }
        list.push(port === undefined ? addr.ip : joinHostPort(addr.ip, port));
      }
    }
  }
  const shown = list.join(',');
  return more ? `${shown} + ${count - maxShown} more...` : shown;
}

/** Upstream's listWithMoreString: `<unset>` when there is nothing to list. */
function listWithMore(items: string[]): string {
  const shown = items.slice(0, maxShown).join(',');
  if (items.length > maxShown) return `${shown} + ${items.length - maxShown} more...`;
  return shown || '<unset>';
}

function sliceCells(obj: KubeObject, now: Date): unknown[] {
  const slice = obj as unknown as EndpointSlice;
  const ports = (slice.ports ?? []).map((p) => (typeof p.port === 'number' ? `${p.port}` : (p.name ?? '*')));
  const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses);
  return [nameOf(obj), slice.addressType ?? '', listWithMore(ports), listWithMore(addresses), ageOf(obj, now)];
}

export const endpointsPrinter: Printer = {
  columns: [nameColumn, column('Endpoints', 'string', docs.endpoints.subsets), ageColumn],
  cells: (obj, now) => [nameOf(obj), formatEndpoints(obj as Endpoints), ageOf(obj, now)],
};

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    column('AddressType', 'string', docs.endpointSlice.addressType),
    column('Ports', 'string', docs.endpointSlice.ports),
    column('Endpoints', 'string', docs.endpointSlice.endpoints),
    ageColumn,
  ],
  cells: sliceCells,
};
