// TokenRequest and the review APIs through a real API server: validation and binding errors with upstream's
// codes, the 3607 s extension, the Node binding claim, and SubjectAccessReview answers and validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { StatusError } from '../../src/api/errors.js';
import type { KubeClient } from '../../src/lib/kube-client.js';
import { adminClient } from '../framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';

const tokenPath = '/api/v1/namespaces/default/serviceaccounts/robot/token';

async function statusOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return { code: err.code, message: err.message };
    throw err;
  }
  assert.fail('the request succeeded');
}

describe('TokenRequest and the review APIs', () => {
  let cp: TestControlPlane;
  let c: KubeClient;
  const hooks: (() => Promise<void>)[] = [];
  let podUID: string;

  before(async () => {
    cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void hooks.push(fn) });
    c = adminClient(cp);
    await c.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'robot' } });
    await c.request('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
    const pod = await c.request('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'worker' },
      spec: { serviceAccountName: 'robot', nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    });
    podUID = pod.metadata.uid;
    await c.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'helper' } });
    await c.request('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'other-sa' },
      spec: { serviceAccountName: 'helper', containers: [{ name: 'c', image: 'busybox' }] },
    });
  });
  after(async () => {
    c.close();
    for (const h of hooks.reverse()) await h();
  });

  const request = (spec: Record<string, unknown>) =>
    c.request('POST', tokenPath, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });

  it('refuses a lifetime under 10 minutes (422) and an unknown service account (404)', async () => {
    const short = await statusOf(request({ expirationSeconds: 599 }));
    assert.equal(short.code, 422);
    assert.match(
      short.message,
      /spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/
    );
    const missing = await statusOf(
      c.request('POST', '/api/v1/namespaces/default/serviceaccounts/ghost/token', { spec: {} })
    );
    assert.equal(missing.code, 404);
    assert.match(missing.message, /serviceaccounts "ghost" not found/);
  });

  it('binds to a pod of that service account only, with the uid checked (409) and the node in the claims', async () => {
    const wrongSA = await statusOf(request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'other-sa' } }));
    assert.equal(wrongSA.code, 400);
    assert.match(
      wrongSA.message,
      /cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name/
    );
    const stale = await statusOf(
      request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker', uid: 'old' } })
    );
    assert.equal(stale.code, 409);
    const kind = await statusOf(request({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }));
    assert.equal(kind.code, 400);
    const tr = await request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker', uid: podUID } });
    const claims = decodeJwt(tr.status.token) as Record<string, any>;
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'worker', uid: podUID });
    assert.equal(claims['kubernetes.io'].node.name, 'n1');
    assert.equal(claims.exp - claims.iat, 3600);
  });

  it('extends a pod-bound 3607 s token to a year with warnafter, reporting 3607 s', async () => {
    const tr = await request({
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker' },
    });
    const claims = decodeJwt(tr.status.token) as Record<string, any>;
    assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);
    assert.equal(claims['kubernetes.io'].warnafter, claims.iat + 3607);
    const reported = Date.parse(tr.status.expirationTimestamp) / 1000;
    assert.ok(Math.abs(reported - (claims.iat + 3607)) <= 1, tr.status.expirationTimestamp);
  });

  it('SubjectAccessReview answers for another user and validates its spec', async () => {
    const sar = (spec: Record<string, unknown>) =>
      c.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec,
      });
    const no = await sar({
      user: 'eve',
      resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'default' },
    });
    assert.deepEqual(no.status, { allowed: false });
    const yes = await sar({
      user: 'eve',
      groups: ['system:authenticated'],
      nonResourceAttributes: { verb: 'get', path: '/version' },
    });
    assert.equal(yes.status.allowed, true);
    assert.match(yes.status.reason, /system:public-info-viewer|system:discovery/);
    const neither = await statusOf(sar({ user: 'eve' }));
    assert.equal(neither.code, 422);
    assert.match(neither.message, /exactly one of nonResourceAttributes or resourceAttributes must be specified/);
    const nobody = await statusOf(sar({ resourceAttributes: { verb: 'get', resource: 'pods' } }));
    assert.match(nobody.message, /at least one of user or group must be specified/);
    const local = await statusOf(
      c.request('POST', '/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews', {
        spec: { user: 'eve', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'other' } },
      })
    );
    assert.equal(local.code, 422);
    assert.match(local.message, /must match metadata.namespace/);
    const review = await statusOf(c.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} }));
    assert.equal(review.code, 400);
    assert.match(review.message, /token is required for TokenReview in authentication/);
    // Never stored: there is nothing to list.
    assert.equal((await statusOf(c.get('/apis/authorization.k8s.io/v1/subjectaccessreviews'))).code, 405);
  });
});
