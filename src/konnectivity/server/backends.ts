// Backend selection (upstream's --proxy-strategies, reference §4.5), tried in order until one has a candidate:
// `destHost` — the dial's host exactly matches an agent's `host`, `ipv4` or `ipv6` identifier, so node X's address
// is reached through node X's agent; `cidr` — the dial's IP lies in one of an agent's `cidr` identifiers (upstream
// parses these but no manager uses them); `defaultRoute` — agents that sent `default-route=true`; `default` — any
// agent. Draining agents are skipped unless all candidates drain.
import { BlockList, isIP } from 'node:net';
import type { ServerCall } from './grpc-server.js';

/** The parsed `agentidentifiers` header, a URL query string such as `ipv4=10.0.0.5&host=node1`. */
export interface AgentIdentifiers {
  host: string[];
  ipv4: string[];
  ipv6: string[];
  cidr: string[];
  defaultRoute: boolean;
}

/** Unknown keys are ignored, as upstream's server does (fail-open for version skew). */
export function parseAgentIdentifiers(query: string): AgentIdentifiers {
  const q = new URLSearchParams(query);
  return {
    host: q.getAll('host'),
    ipv4: q.getAll('ipv4'),
    ipv6: q.getAll('ipv6'),
    cidr: q.getAll('cidr'),
    defaultRoute: q.get('default-route') === 'true',
  };
}

/** One agent `Connect` stream. */
export interface Backend {
  readonly agentID: string;
  readonly identifiers: AgentIdentifiers;
  readonly stream: ServerCall;
  draining: boolean;
}

export type ProxyStrategy = 'destHost' | 'cidr' | 'defaultRoute' | 'default';
export const proxyStrategies: readonly ProxyStrategy[] = ['destHost', 'cidr', 'defaultRoute', 'default'];

/** `--proxy-strategies destHost,default` → the list; throws naming an unknown strategy. */
export function parseProxyStrategies(v: string): ProxyStrategy[] {
  const list = v.split(',').map((s) => s.trim());
  for (const s of list)
    if (!proxyStrategies.includes(s as ProxyStrategy))
      throw new Error(`unknown proxy strategy ${JSON.stringify(s)} (want ${proxyStrategies.join(', ')})`);
  return list as ProxyStrategy[];
}

/** A BlockList of an agent's `cidr` identifiers (malformed ones are ignored, as unknown identifiers are). */
function cidrList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split('/');
    const family = isIP(net ?? '');
    if (!family || !/^\d+$/.test(bits ?? '')) continue;
    list.addSubnet(net!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** The host of `host:port` / `[v6]:port`, as upstream's destHost manager strips it. */
export function dialHost(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export class BackendManager<B extends Backend = Backend> {
  /** agentID → its streams, oldest first (upstream uses the oldest; later duplicates are the extras). */
  private readonly byAgent = new Map<string, B[]>();
  private readonly cidrs = new WeakMap<B, BlockList | undefined>();

  constructor(private readonly strategies: readonly ProxyStrategy[] = ['destHost', 'default']) {}

  add(b: B): void {
    const list = this.byAgent.get(b.agentID) ?? [];
    list.push(b);
    this.byAgent.set(b.agentID, list);
    this.cidrs.set(b, cidrList(b.identifiers.cidr));
  }

  remove(b: B): void {
    const list = this.byAgent.get(b.agentID)?.filter((x) => x !== b) ?? [];
    if (list.length) this.byAgent.set(b.agentID, list);
    else this.byAgent.delete(b.agentID);
  }

  get size(): number {
    return this.byAgent.size;
  }

  /** Readiness follows the first strategy, as upstream's: does it have any agent at all? */
  get ready(): boolean {
    const first = this.strategies[0];
    const oldest = [...this.byAgent.values()].map((l) => l[0]!);
    if (first === 'defaultRoute') return oldest.some((b) => b.identifiers.defaultRoute);
    if (first === 'cidr') return oldest.some((b) => b.identifiers.cidr.length > 0);
    return oldest.length > 0;
  }

  /** The strategies in order; undefined when none has a candidate. */
  pick(address: string): B | undefined {
    const host = dialHost(address);
    const oldest = [...this.byAgent.values()].map((l) => l[0]!);
    for (const s of this.strategies) {
      const b = choose(oldest.filter((b) => this.matches(s, b, host)));
      if (b) return b;
    }
    return undefined;
  }

  private matches(s: ProxyStrategy, b: B, host: string): boolean {
    const id = b.identifiers;
    switch (s) {
      case 'destHost':
        return id.host.includes(host) || id.ipv4.includes(host) || id.ipv6.includes(host);
      case 'cidr': {
        const family = isIP(host);
        return family !== 0 && (this.cidrs.get(b)?.check(host, family === 6 ? 'ipv6' : 'ipv4') ?? false);
      }
      case 'defaultRoute':
        return id.defaultRoute;
      case 'default':
        return true;
    }
  }
}

function choose<B extends Backend>(candidates: B[]): B | undefined {
  const live = candidates.filter((b) => !b.draining);
  const pool = live.length ? live : candidates.slice(0, 1);
  return pool[Math.floor(Math.random() * pool.length)];
}
