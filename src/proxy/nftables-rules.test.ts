// The nftables rules builder: Services and EndpointSlices in, the nft script out (the real kernel's view is
// test/integration/kube-proxy-nftables.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRuleset, cleanupScript, syncScript, type RulesOptions } from './nftables-rules.js';
import { ServiceState, type EndpointSlice, type Service } from './service-ports.js';

const opts: RulesOptions = { table: 'hubspoke-proxy', nodePortAddresses: [], masqueradeAll: false };
const svcName = 'kubernetes.io/service-name';

function stateOf(services: Service[], slices: EndpointSlice[]): ServiceState {
  const st = new ServiceState();
  for (const s of services) st.onService('ADDED', s);
  for (const s of slices) st.onEndpointSlice('ADDED', s);
  return st;
}

const web: Service = {
  metadata: { namespace: 'default', name: 'web' },
  spec: {
    type: 'NodePort',
    clusterIP: '10.96.0.10',
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } },
    // metrics: a port name no pod defines.
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 },
      { name: 'metrics', protocol: 'TCP', port: 9090 },
    ],
  },
};
const webSlice: EndpointSlice = {
  metadata: { namespace: 'default', name: 'web-1', labels: { [svcName]: 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  endpoints: [
    { addresses: ['10.1.0.3'] }, // no condition: ready
    { addresses: ['10.1.0.2'], conditions: { ready: true } },
    { addresses: ['10.1.0.4'], conditions: { ready: false } },
  ],
};

const expected = `table ip hubspoke-proxy {
	comment "rules for kube-proxy"
	set affinity-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080 {
		type ipv4_addr; flags dynamic,timeout; timeout 30s;
	}
	set affinity-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080 {
		type ipv4_addr; flags dynamic,timeout; timeout 30s;
	}
	set cluster-ips {
		type ipv4_addr;
		elements = { 10.96.0.10 }
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict;
		elements = { 10.96.0.10 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http }
	}
	map service-nodeports {
		type inet_proto . inet_service : verdict;
		elements = { tcp . 30080 : goto external-SUSTUHLJ-default/web/tcp/http }
	}
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict;
		elements = { 10.96.0.10 . tcp . 9090 : goto reject-chain }
	}
	map no-endpoint-nodeports {
		type inet_proto . inet_service : verdict;
	}
	chain filter-prerouting {
		type filter hook prerouting priority dstnat - 10; policy accept;
		ct state new jump service-endpoints-check
		ct state new jump nodeport-endpoints-check
	}
	chain filter-output {
		type filter hook output priority -110; policy accept;
		ct state new jump service-endpoints-check
		ct state new jump nodeport-endpoints-check
	}
	chain filter-prerouting-post-dnat {
		type filter hook prerouting priority dstnat + 10; policy accept;
		ct state new jump cluster-ips-check
	}
	chain filter-output-post-dnat {
		type filter hook output priority -90; policy accept;
		ct state new jump cluster-ips-check
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain reject-chain {
		meta l4proto tcp reject with tcp reset
		reject
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x4000
	}
	chain masquerading {
		meta mark & 0x4000 == 0 return
		meta mark set meta mark ^ 0x4000
		masquerade fully-random
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
		fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
	}
	chain service-endpoints-check {
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}
	chain nodeport-endpoints-check {
		fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports
	}
	chain cluster-ips-check {
		ip daddr @cluster-ips goto reject-chain comment "Reject traffic to invalid ports of ClusterIPs"
	}
	chain external-SUSTUHLJ-default/web/tcp/http {
		jump mark-for-masquerade
		goto service-SUSTUHLJ-default/web/tcp/http
	}
	chain endpoint-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080 {
		ip saddr 10.1.0.2 jump mark-for-masquerade
		update @affinity-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080 { ip saddr }
		meta l4proto tcp dnat to 10.1.0.2:8080
	}
	chain endpoint-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080 {
		ip saddr 10.1.0.3 jump mark-for-masquerade
		update @affinity-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080 { ip saddr }
		meta l4proto tcp dnat to 10.1.0.3:8080
	}
	chain service-SUSTUHLJ-default/web/tcp/http {
		ip saddr @affinity-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080 goto endpoint-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080
		ip saddr @affinity-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080 goto endpoint-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080
		numgen random mod 2 vmap { 0 : goto endpoint-7TCSBJI4-default/web/tcp/http__10.1.0.2/8080, 1 : goto endpoint-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080 }
	}
}
`;

test('a NodePort Service with ClientIP affinity, two ready endpoints and a port no pod defines', () => {
  const rs = buildRuleset(stateOf([web], [webSlice]).ports(), opts);
  assert.equal(rs.block, expected);
});

test("chain names are upstream's: the base32 SHA-256 prefix of ns/name/protocol/port", () => {
  const svc: Service = {
    metadata: { namespace: 'ns1', name: 'svc1' },
    spec: { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] },
  };
  const slice: EndpointSlice = {
    metadata: { namespace: 'ns1', name: 'svc1-x', labels: { [svcName]: 'svc1' } },
    addressType: 'IPv4',
    ports: [{ name: 'p80', port: 80 }],
    endpoints: [{ addresses: ['10.180.0.1'] }],
  };
  const rs = buildRuleset(stateOf([svc], [slice]).ports(), opts);
  assert.ok(rs.chains.has('service-ULMVA6XW-ns1/svc1/tcp/p80'), [...rs.chains].join('\n'));
  assert.match(
    rs.block,
    /^\t\tnumgen random mod 1 vmap \{ 0 : goto endpoint-\w{8}-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80 \}$/m
  );
});

test('masquerading: --cluster-cidr, --masquerade-all, --nodeport-addresses', () => {
  const ports = stateOf([web], [webSlice]).ports();
  const rule = 'ip daddr 10.96.0.10 tcp dport 80';
  assert.match(
    buildRuleset(ports, { ...opts, clusterCIDR: '10.1.0.0/16' }).block,
    new RegExp(`\\t${rule} ip saddr != 10\\.1\\.0\\.0/16 jump mark-for-masquerade\\n`)
  );
  assert.match(
    buildRuleset(ports, { ...opts, masqueradeAll: true }).block,
    new RegExp(`\\t${rule} jump mark-for-masquerade\\n`)
  );
  const np = buildRuleset(ports, { ...opts, nodePortAddresses: ['192.168.0.0/24', '10.0.0.0/8'] }).block;
  assert.match(
    np,
    /set nodeport-ips \{\n\t\ttype ipv4_addr; flags interval;\n\t\telements = \{ 192\.168\.0\.0\/24,\n\t\t\t10\.0\.0\.0\/8 \}/
  );
  assert.match(np, /fib daddr type local ip daddr @nodeport-ips meta l4proto \. th dport vmap @service-nodeports/);
});

test('values that would break the rule set are left out; the rest is programmed', () => {
  const bad: Service[] = [
    { metadata: { namespace: 'default', name: 'v6' }, spec: { clusterIP: 'fd00::1', ports: [{ port: 80 }] } },
    { metadata: { namespace: 'default', name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'x.example' } },
    {
      metadata: { namespace: 'default', name: 'junk' },
      spec: { clusterIP: '10.96.0.99; flush ruleset', ports: [{ port: 80 }] },
    },
    { metadata: { namespace: 'default', name: 'range' }, spec: { clusterIP: '10.96.0.98', ports: [{ port: 70000 }] } },
    { metadata: { namespace: 'default', name: 'odd"name' }, spec: { clusterIP: '10.96.0.97', ports: [{ port: 80 }] } },
  ];
  const badSlice: EndpointSlice = {
    metadata: { namespace: 'default', name: 'web-bad', labels: { [svcName]: 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [{ addresses: ['10.1.0.9 } flush ruleset'] }],
  };
  const rs = buildRuleset(stateOf([...bad, web], [webSlice, badSlice]).ports(), opts);
  assert.equal(rs.block, expected);
});

test('a sync after the first flushes and rebuilds in place, keeps affinity, deletes what went', () => {
  const first = buildRuleset(stateOf([web], [webSlice]).ports(), opts);
  assert.equal(syncScript(first), `${cleanupScript('hubspoke-proxy')}${first.block}`);
  // 10.1.0.3 goes away.
  const fewer: EndpointSlice = { ...webSlice, endpoints: [{ addresses: ['10.1.0.2'] }] };
  const second = buildRuleset(stateOf([web], [fewer]).ports(), opts);
  const script = syncScript(second, first);
  const head = script.slice(0, script.indexOf('table ip hubspoke-proxy {'));
  assert.equal(
    head,
    [
      'add table ip hubspoke-proxy',
      'flush table ip hubspoke-proxy',
      'delete set ip hubspoke-proxy affinity-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080',
      'flush set ip hubspoke-proxy cluster-ips',
      'flush map ip hubspoke-proxy service-ips',
      'flush map ip hubspoke-proxy service-nodeports',
      'flush map ip hubspoke-proxy no-endpoint-services',
      'flush map ip hubspoke-proxy no-endpoint-nodeports',
      'delete chain ip hubspoke-proxy endpoint-HJUMRUW5-default/web/tcp/http__10.1.0.3/8080',
      '',
    ].join('\n')
  );
  // A changed affinity timeout replaces the set (nft cannot change it in place).
  const shorter = { ...web, spec: { ...web.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } } };
  const third = syncScript(buildRuleset(stateOf([shorter], [fewer]).ports(), opts), second);
  assert.match(third, /^delete set ip hubspoke-proxy affinity-7TCSBJI4-default\/web\/tcp\/http__10\.1\.0\.2\/8080$/m);
});
