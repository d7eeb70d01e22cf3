// What an agent may be asked to dial. Upstream's agent dials anything the server asks for; ours refuses every
// destination that is not configured, so a compromised control plane cannot use a node as a pivot into its network.
import { isIP } from 'node:net';

export type AllowList = (host: string, port: number) => boolean;

/**
 * Entries are `host:port`, `[v6]:port` or `host:*` (any port); hosts compare exactly (IPv6 case-insensitively).
 * An empty list allows nothing.
 */
export function allowList(entries: readonly string[]): AllowList {
  const allowed = new Set(
    entries.map((e) => {
      const { host, port } = splitEntry(e);
      return `${normalize(host)} ${port}`;
    })
  );
  return (host, port) => allowed.has(`${normalize(host)} ${port}`) || allowed.has(`${normalize(host)} *`);
}

function normalize(host: string): string {
  return isIP(host) === 6 ? host.toLowerCase() : host;
}

function splitEntry(entry: string): { host: string; port: string } {
  const m = /^\[([^\]]+)\]:(\d+|\*)$/.exec(entry) ?? /^([^:[\]]+):(\d+|\*)$/.exec(entry);
  if (!m) throw new Error(`allow-list entry ${JSON.stringify(entry)}: want host:port, [v6]:port or host:*`);
  return { host: m[1]!, port: m[2]! };
}
