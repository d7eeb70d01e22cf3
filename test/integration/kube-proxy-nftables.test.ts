// kube-proxy --proxy-mode=nftables against a real kernel, in network namespaces this test makes (prefix h7-):
//
//   client 10.253.1.2 ──veth── 10.253.1.1 node 10.253.2.1 ──veth── 10.253.2.2, .3 backend (two TCP servers)
//
// kube-proxy runs in the node namespace and programs its nftables; it reaches the API server (in this process,
// on host loopback) through a Unix-socket relay. The client dials ClusterIPs (10.253.128.0/20, routed to the
// node) and the node's NodePort. Each backend answers with the address it listens on and the peer it sees.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KubeClient } from '../../src/lib/kube-client.js';
import { issueCertificate, kubeconfig } from '../../src/pki/index.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';
import {
  createNetns,
  inNetns,
  ip,
  nodeInNetns,
  relayIntoNetns,
  spawnInNetns,
  veth,
  type NetnsProcess,
} from '../framework/netns.js';

const mainScript = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const table = 'hubspoke-proxy';

const backendScript = `
const net = require('node:net');
for (const a of process.argv.slice(1)) {
  const [host, port] = a.split(':');
  const s = net.createServer((c) => c.end(host + ' ' + c.remoteAddress + '\\n'));
  s.listen(Number(port), host, () => console.log('listening ' + a));
}
`;

// Reads {"id","host","port"} lines; answers {"id","data"} or {"id","err","ms"}.
const dialerScript = `
const net = require('node:net');
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const { id, host, port } = JSON.parse(l);
  const started = Date.now();
  const c = net.connect({ host, port, timeout: 5000 });
  let data = '';
  const done = (r) => { c.destroy(); console.log(JSON.stringify({ id, ...r, ms: Date.now() - started })); };
  c.on('data', (d) => (data += d));
  c.on('end', () => done({ data: data.trim() }));
  c.on('timeout', () => done({ err: 'ETIMEDOUT' }));
  c.on('error', (e) => done({ err: e.code }));
});
console.log('ready');
`;

interface DialResult {
  data?: string;
  err?: string;
  ms: number;
}

function dialer(p: NetnsProcess): (host: string, port: number) => Promise<DialResult> {
  let next = 0;
  return async (host, port) => {
    const id = next++;
    const answer = p.line((l) => l.startsWith(`{"id":${id},`));
    p.child.stdin!.write(`${JSON.stringify({ id, host, port })}\n`);
    return JSON.parse(await answer) as DialResult;
  };
}

test('kube-proxy nftables: ClusterIP, NodePort, affinity, reject, endpoint changes, restart, cleanup', async (t) => {
  const tag = `h7-${randomBytes(2).toString('hex')}`;
  const [nodeNs, clientNs, backendNs] = [`${tag}-node`, `${tag}-client`, `${tag}-backend`];
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const ns of [nodeNs, clientNs, backendNs]) await createNetns(t, ns);
  await veth(
    { ns: nodeNs, dev: 'to-client', addrs: ['10.253.1.1/24'] },
    { ns: clientNs, dev: 'eth0', addrs: ['10.253.1.2/24'] }
  );
  await veth(
    { ns: nodeNs, dev: 'to-backend', addrs: ['10.253.2.1/24'] },
    { ns: backendNs, dev: 'eth0', addrs: ['10.253.2.2/24', '10.253.2.3/24'] }
  );
  await ip('-n', clientNs, 'route', 'add', 'default', 'via', '10.253.1.1');
  await ip('-n', backendNs, 'route', 'add', 'default', 'via', '10.253.2.1');
  await inNetns(nodeNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');

  const backends = nodeInNetns(t, backendNs, backendScript, ['10.253.2.2:8080', '10.253.2.3:8080']);
  await backends.line((l) => l === 'listening 10.253.2.3:8080');
  const clientProc = nodeInNetns(t, clientNs, dialerScript);
  await clientProc.line((l) => l === 'ready');
  const dial = dialer(clientProc);

  const cp = await startTestControlPlane(t, { serviceClusterIPRange: '10.253.128.0/20' });
  const admin = adminClient(cp);
  t.after(async () => admin.close());
  const relayPort = await relayIntoNetns(t, nodeNs, Number(new URL(cp.url).port), dir);
  const proxyCert = await issueCertificate({
    ca: cp.server.pki.ca,
    commonName: 'system:kube-proxy',
    usages: ['client'],
    validityMs: 3600_000,
  });
  const kubeconfigPath = join(dir, 'kube-proxy.kubeconfig');
  await writeFile(
    kubeconfigPath,
    kubeconfig({
      server: `https://127.0.0.1:${relayPort}`,
      caPem: cp.server.pki.ca.cert,
      clientCertPem: proxyCert.cert,
      clientKeyPem: proxyCert.key,
      user: 'kube-proxy',
    }),
    { mode: 0o600 }
  );
  const nft = (...args: string[]): Promise<string> => inNetns(nodeNs, 'nft', ...args);
  const listTable = (): Promise<string> => nft('list', 'table', 'ip', table).catch(() => '');
  const startProxy = (mode: string[]): NetnsProcess =>
    spawnInNetns(
      t,
      nodeNs,
      process.execPath,
      [
        '--import',
        'tsx',
        mainScript,
        'kube-proxy',
        '--kubeconfig',
        kubeconfigPath,
        ...mode,
        '--nodeport-addresses=10.253.1.0/24',
        '--min-sync-period=100ms',
      ],
      { HUBSPOKE_LOG_FORMAT: 'json' }
    );

  // Left over from an earlier run: replaced at start.
  await nft('add', 'table', 'ip', table);
  await nft('add', 'chain', 'ip', table, 'stale-from-last-run');
  let proxy = startProxy(['--proxy-mode=nftables']);

  const create = (c: KubeClient, path: string, body: unknown): Promise<any> => c.request('POST', path, body);
  const slice = (name: string, service: string, ips: string[], portName = 'http'): unknown => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: portName, protocol: 'TCP', port: 8080 }],
    endpoints: ips.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  });
  const svcPath = '/api/v1/namespaces/default/services';
  const slicePath = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
  // No selectors: the endpoints are this test's servers, in slices it writes (the controller leaves them alone).
  const web = await create(admin, svcPath, {
    metadata: { name: 'web' },
    spec: {
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9090 }, // no endpoint defines it
      ],
    },
  });
  await create(admin, slicePath, slice('web-1', 'web', ['10.253.2.2', '10.253.2.3']));
  const sticky = await create(admin, svcPath, {
    metadata: { name: 'sticky' },
    spec: { sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80 }] },
  });
  await create(admin, slicePath, slice('sticky-1', 'sticky', ['10.253.2.2', '10.253.2.3']));
  const empty = await create(admin, svcPath, {
    metadata: { name: 'empty' },
    spec: { type: 'NodePort', ports: [{ port: 80 }] },
  });
  const webIP = web.spec.clusterIP as string;
  const nodePort = web.spec.ports[0].nodePort as number;
  const emptyIP = empty.spec.clusterIP as string;

  await eventually('the ClusterIP answering', async () => ((await dial(webIP, 80)).data ? true : undefined), 30_000);
  // Every Service in the rules (a sync may have run before the last one was created).
  await eventually('all three Services in the rules', async () => {
    const rules = await listTable();
    // empty has no chain of its own, only its ClusterIP in no-endpoint-services.
    return ['default/web/', 'default/sticky/', `${emptyIP} . tcp . 80`].every((s) => rules.includes(s))
      ? rules
      : undefined;
  });
  assert.doesNotMatch(await listTable(), /stale-from-last-run/);

  // ClusterIP: both endpoints over a run of connections (numgen random: 2^-23 to miss one), the client's own
  // address seen by the backend (no --cluster-cidr, so no masquerading).
  const seen = new Set<string>();
  for (let i = 0; i < 24; i++) {
    const r = await dial(webIP, 80);
    assert.ok(r.data, JSON.stringify(r));
    seen.add(r.data);
  }
  assert.deepEqual([...seen].sort(), ['10.253.2.2 10.253.1.2', '10.253.2.3 10.253.1.2']);

  // NodePort on the node's address: masqueraded, so the backend sees the node.
  const np = await dial('10.253.1.1', nodePort);
  assert.match(np.data ?? JSON.stringify(np), /^10\.253\.2\.[23] 10\.253\.2\.1$/);

  // Refused at once: a port no endpoint defines, a Service with no endpoints (ClusterIP and NodePort), and a
  // port the ClusterIP does not have.
  for (const [host, port] of [
    [webIP, 9090],
    [emptyIP, 80],
    ['10.253.1.1', empty.spec.ports[0].nodePort as number],
    [webIP, 81],
  ] as const) {
    const r = await dial(host, port);
    assert.equal(r.err, 'ECONNREFUSED', `${host}:${port} ${JSON.stringify(r)}`);
    assert.ok(r.ms < 1000, `${host}:${port} refused after ${r.ms} ms`);
  }

  // sessionAffinity ClientIP: one client, one endpoint.
  const stickyIP = sticky.spec.clusterIP as string;
  const first = (await dial(stickyIP, 80)).data;
  assert.ok(first);
  for (let i = 0; i < 10; i++) assert.equal((await dial(stickyIP, 80)).data, first);

  // An endpoint goes: traffic goes to the other.
  await admin.request('PUT', `${slicePath}/web-1`, {
    ...(slice('web-1', 'web', ['10.253.2.3']) as object),
    metadata: { ...(await admin.get(`${slicePath}/web-1`)).metadata },
  });
  const goneEndpoint = /endpoint-\w+-default\/web\/tcp\/http__10\.253\.2\.2\//;
  await eventually("10.253.2.2 out of web's rules", async () =>
    goneEndpoint.test(await listTable()) ? undefined : true
  );
  assert.equal((await dial(stickyIP, 80)).data, first, 'affinity survives a sync');
  for (let i = 0; i < 10; i++) assert.equal((await dial(webIP, 80)).data, '10.253.2.3 10.253.1.2');

  // kube-proxy killed without cleaning up; a Service deleted meanwhile; the restarted proxy rebuilds the table
  // with nothing of the deleted Service left.
  await proxy.stop('SIGKILL');
  assert.match(await listTable(), new RegExp(emptyIP.replace(/\./g, '\\.')));
  await admin.request('DELETE', `${svcPath}/empty`);
  // No --proxy-mode: root in the namespace may change its firewall, so nftables is the default.
  proxy = startProxy([]);
  await eventually(
    'the rules rebuilt without the deleted Service',
    async () => (new RegExp(`${emptyIP.replace(/\./g, '\\.')}\\b`).test(await listTable()) ? undefined : true),
    30_000
  );
  assert.match(proxy.stderr(), /"mode":"nftables"/);
  for (let i = 0; i < 5; i++) assert.equal((await dial(webIP, 80)).data, '10.253.2.3 10.253.1.2');
  assert.equal((await dial('10.253.1.1', nodePort)).data, '10.253.2.3 10.253.2.1');

  // Exit (SIGTERM): the table is gone.
  await proxy.stop('SIGTERM');
  assert.equal(proxy.child.exitCode, 0, proxy.stderr());
  await assert.rejects(nft('list', 'table', 'ip', table));
});
