// The `kubernetes` VIP across hosts made of network namespaces this test creates (prefix vip-):
//
//   control plane 10.98.0.1, 10.98.0.2 ──veth── 10.98.0.11 node
//
// Two `hubspoke server`s share one etcd (on host loopback, relayed into the control plane's namespace over a Unix
// socket); the node runs `hubspoke agent`, whose kube-proxy (nftables: the default where it may change the
// firewall) has its own node-bound identity. A pod on the node calls the API server the in-cluster way — the
// KUBERNETES_SERVICE_HOST/PORT VIP, its token, its ca.crt, TLS verified — several times a second. Both servers are
// in the `kubernetes` endpoints; after kill -9 of one it leaves them within its identity lease's lifetime (plus a
// resync) and the pod's calls all succeed again. Every process runs under `ip netns exec`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '../framework/api.js';
import { startEtcdCluster } from '../framework/etcd.js';
import { kubectlBinary } from '../framework/kubectl.js';
import {
  agentArgs,
  createNetns,
  inNetns,
  joinFlags,
  relayIntoNetns,
  spawnInNetns,
  veth,
  type NetnsProcess,
} from '../framework/netns.js';
import { recordedContainerPids } from '../framework/up.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const id = randomBytes(2).toString('hex');
const apiIPs = ['10.98.0.1', '10.98.0.2'] as const;
const nodeIP = '10.98.0.11';
const leaseSeconds = 6;

// In the pod: a GET of its own pod through the VIP every 200 ms, one line per call: "<ms since epoch> <HTTP code>
// curl-exit-<curl's exit code>" (000 and the reason when no answer came).
const poller = `
sa=/var/run/secrets/kubernetes.io/serviceaccount
while true; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert $sa/ca.crt \\
    -H "Authorization: Bearer $(cat $sa/token)" \\
    "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/pods/poller")
  echo "$(date +%s%3N) $code curl-exit-$?"
  sleep 0.2
done
`;

test(
  'a pod on another host reaches both API servers through the kubernetes VIP; a killed one leaves',
  {
    timeout: 240_000,
  },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hubspoke-vip-'));
    t.after(async () => {
      for (const pid of await recordedContainerPids(join(dir, 'node')))
        try {
          process.kill(pid, 'SIGKILL'); // the pod's shim outlives the agent by design
        } catch {
          // already gone
        }
      await rm(dir, { recursive: true, force: true });
    });
    const etcd = await startEtcdCluster(t, { members: 1 });
    const cpNs = await createNetns(t, `vip-${id}-cp`);
    const nodeNs = await createNetns(t, `vip-${id}-node`);
    await veth(
      { ns: cpNs, dev: `vip${id}c`, addrs: apiIPs.map((a) => `${a}/24`) },
      { ns: nodeNs, dev: 'eth0', addrs: [`${nodeIP}/24`] }
    );
    // A node needs a route for the service range (a real one has its default route): the kernel picks the route when
    // the pod connects, before kube-proxy's DNAT. Both ends are this test's namespaces, so nothing leaves them.
    await inNetns(nodeNs, 'ip', 'route', 'add', 'default', 'via', apiIPs[0]);
    const etcdPort = await relayIntoNetns(t, cpNs, Number(new URL(etcd.endpoints[0]!).port), dir);
    const hubspoke = (ns: string, args: string[]): NetnsProcess =>
      spawnInNetns(t, ns, process.execPath, ['--import', 'tsx', main, ...args], { HUBSPOKE_LOG_FORMAT: 'json' });

    const dataDirs = apiIPs.map((_, i) => join(dir, `cp-${i}`));
    const server = (i: 0 | 1): NetnsProcess =>
      hubspoke(cpNs, [
        'server',
        '--data-dir',
        dataDirs[i]!,
        '--bind-address',
        apiIPs[i],
        '--secure-port',
        '6443',
        '--service-cluster-ip-range',
        '10.96.0.0/16',
        ...etcd.apiServerFlags([`https://127.0.0.1:${etcdPort}`]),
        '--identity-lease-duration-seconds',
        String(leaseSeconds),
        '--identity-lease-renew-interval-seconds',
        '2',
      ]);
    const ready = (l: string) => l.includes('control plane ready');
    const first = server(0);
    await first.line(ready, 60_000);
    // A second control-plane member shares the cluster CA and keys (kubeadm join --control-plane copies them).
    // The first already leads the controllers, so killing the second tests the endpoints' expiry, not a hand-over.
    await cp(join(dataDirs[0]!, 'pki'), join(dataDirs[1]!, 'pki'), { recursive: true });
    const second = server(1);
    await second.line(ready, 60_000);

    const kubeconfig = join(dataDirs[0]!, 'admin.kubeconfig');
    const kubectl = async (...args: string[]): Promise<string> =>
      (await inNetns(cpNs, kubectlBinary(33), '--kubeconfig', kubeconfig, ...args)).trim();
    const endpoints = async (): Promise<string[]> =>
      (await kubectl('get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'))
        .split(' ')
        .filter(Boolean)
        .sort();
    await eventually('both API servers in the kubernetes endpoints', async () =>
      (await endpoints()).join() === apiIPs.join() ? true : undefined
    );
    const sliceIPs = await kubectl('get', 'endpointslice', 'kubernetes', '-o', 'jsonpath={.endpoints[*].addresses[*]}');
    assert.deepEqual(sliceIPs.split(' ').sort(), [...apiIPs]);

    const join_ = await joinFlags(cpNs, dataDirs[0]!);
    const root = join(dir, 'node');
    const agent = hubspoke(
      nodeNs,
      agentArgs({ server: `https://${apiIPs[0]}:6443`, join: join_, root, name: 'node-1', ip: nodeIP })
    );
    await agent.line((l) => l.includes('"mode":"nftables"'), 60_000);

    await kubectl('create', 'role', 'pod-reader', '--verb=get', '--resource=pods');
    await kubectl('create', 'rolebinding', 'pod-reader', '--role=pod-reader', '--serviceaccount=default:default');
    await kubectl(
      'run',
      'poller',
      '--image=host',
      '--restart=Never',
      '--overrides={"spec":{"nodeName":"node-1"}}',
      '--command',
      '--',
      'sh',
      '-c',
      poller
    );
    // The pod's log, through the node's konnectivity tunnel: [time, code] per call.
    const calls = async (): Promise<[number, string][]> =>
      (await kubectl('logs', 'poller'))
        .split('\n')
        .map((l) => l.split(' '))
        .filter((p) => p.length === 3)
        .map(([at, code, exit]) => [Number(at), code === '000' ? exit! : code!]);
    const okSince = async (since: number, n: number): Promise<true | undefined> => {
      const after = (await calls()).filter(([at]) => at > since);
      if (after.length >= n && after.every(([, code]) => code === '200')) return true;
      // Shown when the wait times out.
      throw new Error(
        `${after.length} calls since, the last: ${
          after
            .slice(-5)
            .map(([, c]) => c)
            .join(' ') || 'none'
        }`
      );
    };
    const start = Date.now();
    await eventually('the pod reads itself through the VIP, 20 calls in a row', () => okSince(0, 20), 90_000).catch(
      async (err: Error) => {
        const proxyLog = agent
          .stderr()
          .split('\n')
          .filter((l) => l.includes('kube-proxy'))
          .slice(-10);
        const rules = await inNetns(nodeNs, 'nft', 'list', 'ruleset');
        assert.fail(`${err.message}\nkube-proxy:\n${proxyLog.join('\n')}\nthe node's ruleset:\n${rules}`);
      }
    );
    const vip = await kubectl('get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}');
    assert.equal(vip, '10.96.0.1');
    t.diagnostic(`pod calls through the VIP succeed ${Date.now() - start} ms after it was created`);
    const ruleset = await inNetns(nodeNs, 'nft', 'list', 'ruleset');
    for (const a of apiIPs) assert.ok(ruleset.includes(`dnat to ${a}:6443`), `no DNAT to ${a}:6443 in\n${ruleset}`);

    await second.stop('SIGKILL');
    const killed = Date.now();
    await eventually(
      'the killed server to leave the kubernetes endpoints',
      async () => ((await endpoints()).join() === apiIPs[0] ? true : undefined),
      30_000
    );
    const left = Date.now() - killed;
    t.diagnostic(`the killed server left the endpoints ${left} ms after kill -9 (lease ${leaseSeconds} s)`);
    // Its lease lapses after leaseSeconds; the controller notices on its next reconcile (every 5 s) at the latest.
    assert.ok(left < (leaseSeconds + 5 + 3) * 1000, `left after ${left} ms`);
    // kube-proxy follows (a sync at most a second later): from then on every call of the pod succeeds.
    const settled = Date.now() + 2000;
    await eventually('10 calls in a row succeed after the endpoints changed', () => okSince(settled, 10), 30_000);
    const during = (await calls()).filter(([at]) => at > killed && at <= settled);
    t.diagnostic(
      `between kill -9 and the endpoints' update: ${during.filter(([, c]) => c !== '200').length} of ${during.length} calls failed`
    );
    await agent.stop();
    assert.doesNotMatch(
      await inNetns(nodeNs, 'nft', 'list', 'tables'),
      /hubspoke/,
      'kube-proxy removes its table on exit'
    );
  }
);
