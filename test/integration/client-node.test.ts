// @kubernetes/client-node, an independent real client: CRUD and an informer that sees adds, updates, deletes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startTestControlPlane } from '../framework/control-plane.js';

test('client-node - create, get, list, patch, delete, and an informer', async (t) => {
  const cp = await startTestControlPlane(t);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = 'default';

  const events: string[] = [];
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () =>
    core.listNamespacedConfigMap({ namespace })
  );
  // Only this test's object: the root-CA publisher puts kube-root-ca.crt in every namespace too.
  const ours = (o: k8s.V1ConfigMap): boolean => o.metadata?.name === 'cfg';
  informer.on('add', (o) => ours(o) && events.push(`add:${o.metadata?.name}`));
  informer.on('update', (o) => ours(o) && events.push(`update:${o.metadata?.name}:${o.data?.k}`));
  informer.on('delete', (o) => ours(o) && events.push(`delete:${o.metadata?.name}`));
  await informer.start();
  t.after(() => informer.stop());

  const created = await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'cfg', labels: { app: 'x' } }, data: { k: 'v1' } },
  });
  assert.ok(created.metadata?.uid);
  assert.equal(created.metadata?.resourceVersion !== undefined, true);

  const got = await core.readNamespacedConfigMap({ name: 'cfg', namespace });
  assert.equal(got.data?.k, 'v1');

  const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=x' });
  assert.deepEqual(
    list.items.map((i) => i.metadata?.name),
    ['cfg']
  );
  assert.equal((await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=y' })).items.length, 0);

  const patched = await core.patchNamespacedConfigMap(
    { name: 'cfg', namespace, body: { data: { k: 'v2' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)
  );
  assert.equal(patched.data?.k, 'v2');
  assert.notEqual(patched.metadata?.resourceVersion, created.metadata?.resourceVersion);

  await core.deleteNamespacedConfigMap({ name: 'cfg', namespace });
  await assert.rejects(
    core.readNamespacedConfigMap({ name: 'cfg', namespace }),
    (err: { code?: number }) => err.code === 404
  );

  for (let i = 0; i < 100 && !events.includes('delete:cfg'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, ['add:cfg', 'update:cfg:v2', 'delete:cfg']);
});
