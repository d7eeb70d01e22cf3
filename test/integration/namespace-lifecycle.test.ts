// NamespaceLifecycle against a real API server, whose namespace reads come from the watch cache with a live read
// when the cache lacks one: a missing namespace → 404, a namespace used the moment it is created works, and a
// terminating one refuses new content with 403.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });

test('creates in a missing namespace → 404; in one just created → 201; in a terminating one → 403', async (t) => {
  const cp = await startTestControlPlane(t);
  const admin = adminClient(cp);
  t.after(async () => admin.close());

  await assert.rejects(admin.request('POST', '/api/v1/namespaces/nope/configmaps', configMap('c')), (err) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.status.code, 404);
    assert.equal(err.status.message, 'namespaces "nope" not found');
    return true;
  });

  // No wait between the two: the watch cache may not have the namespace yet, the live read does.
  for (let i = 0; i < 5; i++) {
    await admin.request('POST', '/api/v1/namespaces', { metadata: { name: `fresh-${i}` } });
    const cm = await admin.request<{ metadata: { namespace: string } }>(
      'POST',
      `/api/v1/namespaces/fresh-${i}/configmaps`,
      configMap('c')
    );
    assert.equal(cm.metadata.namespace, `fresh-${i}`);
  }

  // A finalizer of our own keeps the namespace Terminating after the namespace controller is done with it.
  await admin.request('POST', '/api/v1/namespaces', { metadata: { name: 'going', finalizers: ['example.com/hold'] } });
  await admin.request('DELETE', '/api/v1/namespaces/going');
  const refusal = await eventually('create refused in the terminating namespace', async () => {
    try {
      await admin.request('POST', '/api/v1/namespaces/going/configmaps', configMap(`c-${Date.now()}`));
      return undefined;
    } catch (err) {
      return err instanceof StatusError ? err.status : undefined;
    }
  });
  assert.equal(refusal.code, 403);
  assert.match(refusal.message, /unable to create new content in namespace going because it is being terminated/);
  // Refused every time from then on.
  for (let i = 0; i < 5; i++)
    await assert.rejects(
      admin.request('POST', '/api/v1/namespaces/going/configmaps', configMap(`d-${i}`)),
      /terminated/
    );
});
