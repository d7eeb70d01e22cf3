// Backend selection (upstream's proxy strategies `destHost,default`, reference §4.5): a dial whose host exactly
// matches an agent's `host`, `ipv4` or `ipv6` identifier goes to that agent, so node X's address is reached through
// node X's agent; anything else goes to a random connected agent. Draining agents are skipped unless all are.
import type * as grpc from '@grpc/grpc-js';
import type { Packet } from '../proto/packet.js';

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
  readonly stream: grpc.ServerDuplexStream<Packet, Packet>;
  draining: boolean;
}

/** The host of `host:port` / `[v6]:port`, as upstream's destHost manager strips it. */
export function dialHost(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export class BackendManager {
  /** agentID → its streams, oldest first (upstream uses the oldest; later duplicates are the extras). */
  private readonly byAgent = new Map<string, Backend[]>();

  add(b: Backend): void {
    const list = this.byAgent.get(b.agentID) ?? [];
    list.push(b);
    this.byAgent.set(b.agentID, list);
  }

  remove(b: Backend): void {
    const list = this.byAgent.get(b.agentID)?.filter((x) => x !== b) ?? [];
    if (list.length) this.byAgent.set(b.agentID, list);
    else this.byAgent.delete(b.agentID);
  }

  get size(): number {
    return this.byAgent.size;
  }

  /** destHost, then default; undefined when no agent is connected. */
  pick(address: string): Backend | undefined {
    const host = dialHost(address);
    const oldest = [...this.byAgent.values()].map((l) => l[0]!);
    const matching = oldest.filter((b) =>
      [...b.identifiers.host, ...b.identifiers.ipv4, ...b.identifiers.ipv6].includes(host)
    );
    return choose(matching) ?? choose(oldest);
  }
}

function choose(candidates: Backend[]): Backend | undefined {
  const live = candidates.filter((b) => !b.draining);
  const pool = live.length ? live : candidates.slice(0, 1);
  return pool[Math.floor(Math.random() * pool.length)];
}
