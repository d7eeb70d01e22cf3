// `hubspoke server` on a real three-member etcd cluster (TLS, client certificates): objects written through the API
// land in etcd under --etcd-prefix; with every member down the API answers 503 quickly and /readyz reports etcd
// failed; when the members return, the server recovers without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { StatusError } from '../../src/api/errors.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { startEtcdCluster } from '../framework/etcd.js';

/** GET a health endpoint as the admin: status code and text body. */
function health(cp: TestControlPlane, path: string): Promise<{ code: number; body: string }> {
  const { ca, admin } = cp.server.pki;
  return new Promise((resolve, reject) => {
    const req = request(`${cp.url}${path}`, { ca: ca.cert, cert: admin.cert, key: admin.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
const configMaps = '/api/v1/namespaces/default/configmaps';

test('control plane on etcd - stores objects in etcd; an outage is 503 and unready; recovers by itself', async (t) => {
  // Cleanups run last-registered first: the control plane stops before the cluster it uses.
  const cleanups: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const fn of cleanups) await fn();
  });
  const hook = { after: (fn: () => Promise<void>) => void cleanups.unshift(fn) };
  const cluster = await startEtcdCluster(hook);
  const cp = await startTestControlPlane(hook, cluster.apiServerOptions('/hubspoke'));
  const { ca, admin } = cp.server.pki;
  const client = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: admin.cert, keyPem: admin.key });
  hook.after(async () => client.close());

  const created = await client.request('POST', configMaps, configMap('cm1'));
  const got = await client.get(`${configMaps}/cm1`);
  assert.deepEqual(got.data, { a: '1' });
  assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
  const raw = new Etcd3({
    hosts: cluster.endpoints,
    credentials: {
      rootCertificate: await readFile(cluster.caFile),
      certChain: await readFile(cluster.certFile),
      privateKey: await readFile(cluster.keyFile),
    },
  });
  try {
    const stored = await raw.get('/hubspoke/configmaps/default/cm1').exec();
    assert.equal(JSON.parse(stored.kvs[0]!.value.toString()).metadata.uid, created.metadata.uid);
    assert.equal(stored.kvs[0]!.mod_revision, created.metadata.resourceVersion);
  } finally {
    raw.close();
  }
  assert.equal((await health(cp, '/readyz')).code, 200);

  await Promise.all(cluster.members.map((_, i) => cluster.kill(i)));
  for (const call of [
    () => client.get(`${configMaps}/cm1`),
    () => client.request('POST', configMaps, configMap('cm2')),
  ]) {
    const started = Date.now();
    await assert.rejects(call(), (err) => {
      assert.ok(err instanceof StatusError, String(err));
      assert.equal(err.code, 503);
      assert.equal(err.reason, 'ServiceUnavailable');
      assert.match(err.message, /^etcd cluster is unavailable or misconfigured: /);
      return true;
    });
    assert.ok(Date.now() - started < 3_000, `answered after ${Date.now() - started} ms`);
  }
  const started = Date.now();
  const unready = await health(cp, '/readyz');
  assert.ok(Date.now() - started < 3_000);
  assert.equal(unready.code, 500);
  assert.match(unready.body, /^\[-\]etcd failed: /m);

  await cluster.restart(0, 1, 2);
  await eventually('the API to serve again', 15_000, async () => !!(await client.get(`${configMaps}/cm1`)));
  await eventually('/readyz to pass', 15_000, async () => (await health(cp, '/readyz')).code === 200);
  const again = await client.request('POST', configMaps, configMap('cm2'));
  assert.ok(Number(again.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  const list = await client.get(configMaps);
  const names = list.items.map((i: { metadata: { name: string } }) => i.metadata.name);
  assert.deepEqual(
    names.filter((n: string) => n.startsWith('cm')),
    ['cm1', 'cm2']
  );
});
