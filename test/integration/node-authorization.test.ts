// A node's credential against the real API server with the default Node,RBAC authorization and NodeRestriction:
// a client certificate for system:node:n1 (O=system:nodes) made with src/pki may write its own Node and Lease
// and read what its pods reference, and nothing of n2's. A pod created by the admin gets the projected
// service-account volume.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import type { KubeClient } from '../../src/lib/kube-client.js';
import { userClient } from '../framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof StatusError) return err.code;
    throw err;
  }
}

/** The graph follows the pods' watch, so a just-created pod is visible to the authorizer a moment later. */
async function eventually(fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const node = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
});
const lease = (name: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, leaseDurationSeconds: 40 },
});
const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { k: name } });

describe('node authorization (Node,RBAC + NodeRestriction)', () => {
  let cp: TestControlPlane;
  let admin: KubeClient;
  let n1: KubeClient;

  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
    admin = await userClient(cp, 'test-admin', ['system:masters']);
    n1 = await userClient(cp, 'system:node:n1', ['system:nodes']);
    cleanups.push(async () => {
      admin.close();
      n1.close();
    });
    // The service-account controller is not what this test is about; make the account it would make.
    await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default' },
    });
    await admin.request('POST', '/api/v1/nodes', node('n2'));
    for (const s of ['n1-secret', 'other-secret'])
      await admin.request('POST', '/api/v1/namespaces/default/secrets', secret(s));
  });

  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('registers and updates its own Node and Lease', async () => {
    await n1.request('POST', '/api/v1/nodes', node('n1'));
    const got = await n1.get('/api/v1/nodes/n1');
    await n1.request('PUT', '/api/v1/nodes/n1', {
      ...got,
      metadata: { ...got.metadata, labels: { ...got.metadata.labels, 'kubernetes.io/os': 'linux' } },
    });
    await n1.request(
      'PATCH',
      '/api/v1/nodes/n1/status',
      { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } },
      'application/merge-patch+json'
    );
    await n1.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n1'));
    const l = await n1.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1');
    await n1.request('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', {
      ...l,
      spec: { ...l.spec, renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
    // kubelets watch their own Node by name.
    const list = await n1.get('/api/v1/nodes?fieldSelector=metadata.name%3Dn1');
    assert.deepEqual(
      list.items.map((n: { metadata: { name: string } }) => n.metadata.name),
      ['n1']
    );
  });

  it('gets 403 on Node n2, its Lease, all nodes, and restricted labels', async () => {
    await assert.rejects(n1.get('/api/v1/nodes/n2'), (err: StatusError) => {
      assert.equal(err.code, 403);
      assert.match(err.message, /nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes"/);
      assert.match(err.message, /node 'n1' cannot read 'n2', only its own Node object/);
      return true;
    });
    const n2 = await admin.get('/api/v1/nodes/n2');
    assert.equal(await status(n1.request('PUT', '/api/v1/nodes/n2', n2)), 403);
    assert.equal(await status(n1.request('DELETE', '/api/v1/nodes/n1')), 403);
    assert.equal(await status(n1.get('/api/v1/nodes')), 403);
    assert.equal(
      await status(n1.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n2'))),
      403
    );
    assert.equal(
      await status(n1.request('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('n1'))),
      403
    );
    const own = await n1.get('/api/v1/nodes/n1');
    await assert.rejects(
      n1.request('PUT', '/api/v1/nodes/n1', {
        ...own,
        metadata: { ...own.metadata, labels: { 'node-role.kubernetes.io/control-plane': '' } },
      }),
      /nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io\/control-plane$/
    );
  });

  it('reads only the secrets its pods reference', async () => {
    await admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-n1' },
      spec: {
        nodeName: 'n1',
        containers: [
          {
            name: 'c',
            image: 'busybox',
            env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 'n1-secret', key: 'k' } } }],
          },
        ],
      },
    });
    await eventually(() => n1.get('/api/v1/namespaces/default/secrets/n1-secret'));
    const s = await n1.get('/api/v1/namespaces/default/secrets/n1-secret');
    assert.equal(Buffer.from(s.data.k, 'base64').toString(), 'n1-secret');
    await assert.rejects(n1.get('/api/v1/namespaces/default/secrets/other-secret'), (err: StatusError) => {
      assert.equal(err.code, 403);
      assert.match(err.message, /no relationship found between node 'n1' and this object/);
      return true;
    });
    assert.equal(await status(n1.get('/api/v1/namespaces/default/secrets')), 403);
    // Its pods by the spec.nodeName selector; its pod's status; nobody else's pods.
    const pods = await n1.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    assert.deepEqual(
      pods.items.map((p: { metadata: { name: string } }) => p.metadata.name),
      ['on-n1']
    );
    assert.equal(await status(n1.get('/api/v1/pods')), 403);
    await n1.request(
      'PATCH',
      '/api/v1/namespaces/default/pods/on-n1/status',
      { status: { phase: 'Running' } },
      'application/merge-patch+json'
    );
    // A pod bound elsewhere: neither its secret nor its status.
    await admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-n2' },
      spec: {
        nodeName: 'n2',
        volumes: [{ name: 'v', secret: { secretName: 'other-secret' } }],
        containers: [{ name: 'c', image: 'busybox' }],
      },
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await status(n1.get('/api/v1/namespaces/default/secrets/other-secret')), 403);
    assert.equal(await status(n1.get('/api/v1/namespaces/default/pods/on-n2')), 403);
    assert.equal(
      await status(
        n1.request(
          'PATCH',
          '/api/v1/namespaces/default/pods/on-n2/status',
          { status: { phase: 'Running' } },
          'application/merge-patch+json'
        )
      ),
      403
    );
    // Only mirror pods may be created by a node.
    assert.equal(
      await status(
        n1.request('POST', '/api/v1/namespaces/default/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'sneaky' },
          spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
        })
      ),
      403
    );
  });

  it('requests service-account tokens only bound to its own pods', async () => {
    const tokenFor = (pod: { metadata: { name: string; uid: string } }) =>
      n1.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          expirationSeconds: 3607,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        },
      });
    const mine = await admin.get('/api/v1/namespaces/default/pods/on-n1');
    const tr = await tokenFor(mine);
    assert.match(tr.status.token, /^ey/);
    const theirs = await admin.get('/api/v1/namespaces/default/pods/on-n2');
    await assert.rejects(tokenFor(theirs), /node requested token bound to a pod scheduled on a different node/);
    // No pod on n1 uses this account: the Node authorizer itself refuses.
    await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'unused' },
    });
    assert.equal(
      await status(
        n1.request('POST', '/api/v1/namespaces/default/serviceaccounts/unused/token', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'on-n1', uid: mine.metadata.uid } },
        })
      ),
      403
    );
  });

  it('gives a pod created by the admin the projected service-account volume', async () => {
    const pod = await admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain' },
      spec: { containers: [{ name: 'c', image: 'busybox' }], initContainers: [{ name: 'i', image: 'busybox' }] },
    });
    assert.equal(pod.spec.serviceAccountName, 'default');
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    assert.match(volume.name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.deepEqual(volume.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    });
    for (const c of [...pod.spec.containers, ...pod.spec.initContainers])
      assert.deepEqual(c.volumeMounts, [
        { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
      ]);
    // Without the account the pod is refused.
    await assert.rejects(
      admin.request('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'orphan' },
        spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'busybox' }] },
      }),
      /error looking up service account default\/ghost/
    );
  });
});
