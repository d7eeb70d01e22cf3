// kube-proxy's nftables rules (upstream pkg/proxy/nftables), built from the Service ports as one `nft -f` script:
// a pure function, so tests compare scripts. One table of our own (`ip hubspoke-proxy`, IPv4 only). Upstream's
// layout, chain names included:
//   nat-prerouting / nat-output → services: `ip daddr . proto . port` in the service-ips map, NodePorts on local
//   addresses in service-nodeports → service-<hash>-ns/name/proto/port: affinity, then `numgen random` over the
//   ready endpoints → endpoint-<hash>-…__ip/port: dnat (NodePorts pass through external-… first, which marks
//   them for masquerading; so do ClusterIP clients outside --cluster-cidr, or all with --masquerade-all).
//   A Service port without ready endpoints is in no-endpoint-services/-nodeports instead and is rejected (a TCP
//   reset, else ICMP port unreachable: the client is refused at once), as are a ClusterIP's undeclared ports.
// Unlike upstream, the reject checks run in prerouting (before routing) rather than input/forward, so they hold
// on a node without a route for the service range. The output hook takes no `dstnat` keyword: its priorities
// are numbers (dstnat is -100).
import { createHash } from 'node:crypto';
import type { Endpoint, ServicePort } from './service-ports.js';

export interface RulesOptions {
  /** The table's name, in family ip. */
  table: string;
  /** CIDRs whose local addresses accept NodePorts (`--nodeport-addresses`); empty: every non-loopback one. */
  nodePortAddresses: string[];
  /** `--masquerade-all`: SNAT every ClusterIP connection. */
  masqueradeAll: boolean;
  /** `--cluster-cidr`: ClusterIP clients outside it are masqueraded. */
  clusterCIDR?: string;
}

/** A set or map; `dynamic` ones (affinity) keep their elements across syncs. */
interface SetDef {
  header: string;
  dynamic: boolean;
}

export interface Ruleset {
  table: string;
  /** The `table ip NAME { … }` block. */
  block: string;
  chains: Set<string>;
  sets: Map<string, SetDef>;
}

const masqueradeBit = '0x4000';

// Upstream's hashAndTruncate: the first 8 characters of the base32 (RFC 4648) SHA-256.
function hash8(s: string): string {
  const b = createHash('sha256').update(s).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; out.length < 8; i++) {
    value = (value << 8) | b[i]!;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

const named = (prefix: string, id: string): string => `${prefix}-${hash8(id)}-${id}`;
const portId = (sp: ServicePort): string => `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}`;
const endpointId = (sp: ServicePort, ep: Endpoint): string => `${portId(sp)}__${ep.ip}/${ep.port}`;

/** Service, namespace and port names are DNS labels; anything else would not be an nft identifier. */
const safeIdentifier = (sp: ServicePort): boolean => /^[a-z0-9.-]*$/.test(`${sp.namespace}${sp.name}${sp.portName}`);

export function buildRuleset(ports: ServicePort[], opts: RulesOptions): Ruleset {
  const chains = new Map<string, string[]>();
  const sets = new Map<string, SetDef & { elements: string[] }>();
  const addSet = (name: string, header: string, elements: string[] = [], dynamic = false): void => {
    sets.set(name, { header, elements, dynamic });
  };
  const ipv4Key = 'ipv4_addr . inet_proto . inet_service : verdict';
  const portKey = 'inet_proto . inet_service : verdict';
  const nodePortMatch = opts.nodePortAddresses.length ? 'ip daddr @nodeport-ips' : 'ip daddr != 127.0.0.0/8';

  const base = (hook: string, rules: string[]): string[] => [`${hook}; policy accept;`, ...rules];
  const checks = ['ct state new jump service-endpoints-check', 'ct state new jump nodeport-endpoints-check'];
  chains.set('filter-prerouting', base('type filter hook prerouting priority dstnat - 10', checks));
  chains.set('filter-output', base('type filter hook output priority -110', checks));
  const postDnat = ['ct state new jump cluster-ips-check'];
  chains.set('filter-prerouting-post-dnat', base('type filter hook prerouting priority dstnat + 10', postDnat));
  chains.set('filter-output-post-dnat', base('type filter hook output priority -90', postDnat));
  chains.set('nat-prerouting', base('type nat hook prerouting priority dstnat', ['jump services']));
  chains.set('nat-output', base('type nat hook output priority -100', ['jump services']));
  chains.set('nat-postrouting', base('type nat hook postrouting priority srcnat', ['jump masquerading']));

  // A TCP reset rather than upstream's ICMP for TCP: the kernel rate-limits ICMP errors per peer (a burst of 6,
  // then one a second), and a client whose error was dropped waits a second to retry its SYN.
  chains.set('reject-chain', ['meta l4proto tcp reject with tcp reset', 'reject']);
  chains.set('mark-for-masquerade', [`meta mark set meta mark | ${masqueradeBit}`]);
  chains.set('masquerading', [
    `meta mark & ${masqueradeBit} == 0 return`,
    `meta mark set meta mark ^ ${masqueradeBit}`,
    'masquerade fully-random',
  ]);
  chains.set('services', [
    'ip daddr . meta l4proto . th dport vmap @service-ips',
    `fib daddr type local ${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`,
  ]);
  chains.set('service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']);
  chains.set('nodeport-endpoints-check', [
    `fib daddr type local ${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`,
  ]);
  chains.set('cluster-ips-check', [
    'ip daddr @cluster-ips goto reject-chain comment "Reject traffic to invalid ports of ClusterIPs"',
  ]);

  const serviceIPs: string[] = [];
  const serviceNodePorts: string[] = [];
  const noEndpointServices: string[] = [];
  const noEndpointNodePorts: string[] = [];
  const clusterIPs = new Set<string>();
  for (const sp of ports) {
    if (!safeIdentifier(sp)) continue;
    const proto = sp.protocol.toLowerCase();
    clusterIPs.add(sp.clusterIP);
    const vip = `${sp.clusterIP} . ${proto} . ${sp.port}`;
    if (sp.endpoints.length === 0) {
      noEndpointServices.push(`${vip} : goto reject-chain`);
      if (sp.nodePort) noEndpointNodePorts.push(`${proto} . ${sp.nodePort} : goto reject-chain`);
      continue;
    }
    const serviceChain = named('service', portId(sp));
    serviceIPs.push(`${vip} : goto ${serviceChain}`);
    if (sp.nodePort) {
      // externalTrafficPolicy Cluster: the endpoint may be on another node, so the reply must come back here.
      const externalChain = named('external', portId(sp));
      chains.set(externalChain, ['jump mark-for-masquerade', `goto ${serviceChain}`]);
      serviceNodePorts.push(`${proto} . ${sp.nodePort} : goto ${externalChain}`);
    }
    const rules: string[] = [];
    const match = `ip daddr ${sp.clusterIP} ${proto} dport ${sp.port}`;
    if (opts.masqueradeAll) rules.push(`${match} jump mark-for-masquerade`);
    else if (opts.clusterCIDR) rules.push(`${match} ip saddr != ${opts.clusterCIDR} jump mark-for-masquerade`);
    const endpointChains = sp.endpoints.map((ep) => {
      const id = endpointId(sp, ep);
      const chain = named('endpoint', id);
      const epRules = [`ip saddr ${ep.ip} jump mark-for-masquerade`]; // hairpin: the endpoint calls its own Service
      if (sp.affinitySeconds) {
        const set = named('affinity', id);
        addSet(set, `type ipv4_addr; flags dynamic,timeout; timeout ${sp.affinitySeconds}s;`, [], true);
        rules.push(`ip saddr @${set} goto ${chain}`);
        epRules.push(`update @${set} { ip saddr }`);
      }
      epRules.push(`meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
      chains.set(chain, epRules);
      return chain;
    });
    const verdicts = endpointChains.map((c, i) => `${i} : goto ${c}`).join(', ');
    rules.push(`numgen random mod ${endpointChains.length} vmap { ${verdicts} }`);
    chains.set(serviceChain, rules);
  }
  addSet('cluster-ips', 'type ipv4_addr;', [...clusterIPs].sort());
  if (opts.nodePortAddresses.length)
    addSet('nodeport-ips', 'type ipv4_addr; flags interval;', [...opts.nodePortAddresses]);
  addSet('service-ips', `type ${ipv4Key};`, serviceIPs);
  addSet('service-nodeports', `type ${portKey};`, serviceNodePorts);
  addSet('no-endpoint-services', `type ${ipv4Key};`, noEndpointServices);
  addSet('no-endpoint-nodeports', `type ${portKey};`, noEndpointNodePorts);

  const lines = [`table ip ${opts.table} {`, '\tcomment "rules for kube-proxy"'];
  for (const [name, s] of sets) {
    const kind = s.header.includes(': verdict') ? 'map' : 'set';
    lines.push(`\t${kind} ${name} {`, `\t\t${s.header}`);
    if (s.elements.length) lines.push(`\t\telements = { ${s.elements.join(',\n\t\t\t')} }`);
    lines.push('\t}');
  }
  for (const [name, rules] of chains) lines.push(`\tchain ${name} {`, ...rules.map((r) => `\t\t${r}`), '\t}');
  lines.push('}');
  return {
    table: opts.table,
    block: `${lines.join('\n')}\n`,
    chains: new Set(chains.keys()),
    sets: new Map([...sets].map(([n, s]) => [n, { header: s.header, dynamic: s.dynamic }])),
  };
}

/**
 * The whole table as one atomic transaction. With no previous ruleset (at start, or after a failed sync) the
 * table is deleted and rebuilt, so nothing from an earlier run survives. Otherwise its rules and static sets are
 * flushed and rebuilt in place, and what is gone is deleted: affinity sets that stay keep their clients.
 */
export function syncScript(next: Ruleset, prev?: Ruleset): string {
  const t = `ip ${next.table}`;
  const lines = [`add table ${t}`];
  if (!prev) lines.push(`delete table ${t}`);
  else {
    lines.push(`flush table ${t}`);
    for (const [name, s] of prev.sets) {
      const kind = s.header.includes(': verdict') ? 'map' : 'set';
      const now = next.sets.get(name);
      if (!now || now.header !== s.header) lines.push(`delete ${kind} ${t} ${name}`);
      else if (!s.dynamic) lines.push(`flush ${kind} ${t} ${name}`);
    }
    for (const name of prev.chains) if (!next.chains.has(name)) lines.push(`delete chain ${t} ${name}`);
  }
  return `${lines.join('\n')}\n${next.block}`;
}

/** Removes the table (`add` first, so it succeeds when there is none). */
export const cleanupScript = (table: string): string => `add table ip ${table}\ndelete table ip ${table}\n`;
