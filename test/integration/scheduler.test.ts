// The scheduler and the node-lifecycle controller through the real API server, with their own identities
// (system:kube-scheduler; system:serviceaccount:kube-system:node-controller): a pending pod is bound to the
// Ready node it fits; one that fits nowhere gets PodScheduled=False with upstream's message and a
// FailedScheduling event, then is placed when a node that fits appears; a node whose Lease stops being renewed
// goes Unknown, is tainted, its pods marked not Ready (and evicted once their NoExecute toleration runs out),
// and recovers when the kubelet is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339, rfc3339Micro } from '../../src/api/meta.js';
import type { KubeClient } from '../../src/lib/kube-client.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';

type Obj = Record<string, any>;

async function createNode(c: KubeClient, name: string, cpu: string, ready: 'True' | 'False'): Promise<void> {
  await c.request('POST', '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  });
  await postStatus(c, name, ready, cpu);
}

/** What a kubelet does: post the node's status with a fresh heartbeat. */
async function postStatus(c: KubeClient, name: string, ready: 'True' | 'False', cpu = '1'): Promise<void> {
  const node = await c.get<Obj>(`/api/v1/nodes/${name}`);
  const now = rfc3339();
  node.status = {
    ...node.status,
    capacity: { cpu, memory: '2Gi', pods: '110' },
    allocatable: { cpu, memory: '2Gi', pods: '110' },
    conditions: [
      {
        type: 'Ready',
        status: ready,
        reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
        message: ready === 'True' ? 'kubelet is posting ready status' : 'container runtime is down',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
  await c.request('PUT', `/api/v1/nodes/${name}/status`, node);
}

/** What a kubelet does every 10 s: renew its Lease in kube-node-lease. */
async function renewLease(c: KubeClient, name: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`;
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: rfc3339Micro() };
  try {
    const lease = await c.get<Obj>(path);
    await c.request('PUT', path, { ...lease, spec });
  } catch {
    await c.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name },
      spec,
    });
  }
}

function pod(name: string, cpu: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu, memory: '64Mi' } } }] },
  };
}

/** Pods wait for the namespace's default ServiceAccount (ServiceAccount admission). */
const defaultServiceAccount = (c: KubeClient): Promise<unknown> =>
  eventually('default ServiceAccount', () => c.get('/api/v1/namespaces/default/serviceaccounts/default'));

const events = async (c: KubeClient, podName: string, reason: string): Promise<Obj[]> =>
  (
    await c.get<{ items: Obj[] }>(
      `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${podName},reason=${reason}`)}`
    )
  ).items;

test('scheduler - binds to the fitting Ready node; explains and retries a pod that fits nowhere', async (t) => {
  const cp = await startTestControlPlane(t, {}, { scheduler: { podInitialBackoffMs: 100, podMaxBackoffMs: 500 } });
  const c = adminClient(cp);
  t.after(() => c.close());
  await defaultServiceAccount(c);
  await createNode(c, 'small', '1', 'True');
  await createNode(c, 'broken', '8', 'False');

  await c.request('POST', '/api/v1/namespaces/default/pods', pod('fits', '500m'));
  const bound = await eventually('pod bound', async () => {
    const p = await c.get<Obj>('/api/v1/namespaces/default/pods/fits');
    return p.spec.nodeName ? p : undefined;
  });
  assert.equal(bound.spec.nodeName, 'small');
  assert.equal(bound.status.conditions.find((x: Obj) => x.type === 'PodScheduled')?.status, 'True');
  const scheduled = await eventually('Scheduled event', async () => (await events(c, 'fits', 'Scheduled'))[0]);
  assert.equal(scheduled.type, 'Normal');
  assert.equal(scheduled.message, 'Successfully assigned default/fits to small');
  assert.equal(scheduled.source?.component, 'default-scheduler');

  // 700m more does not fit on "small" (500m taken) and "broken" is not Ready.
  const expected =
    '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. ' +
    'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, ' +
    '1 Preemption is not helpful for scheduling.';
  await c.request('POST', '/api/v1/namespaces/default/pods', pod('waits', '700m'));
  const cond = await eventually('PodScheduled=False', async () => {
    const p = await c.get<Obj>('/api/v1/namespaces/default/pods/waits');
    return p.status?.conditions?.find((x: Obj) => x.type === 'PodScheduled' && x.status === 'False');
  });
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, expected);
  const failed = await eventually(
    'FailedScheduling event',
    async () => (await events(c, 'waits', 'FailedScheduling'))[0]
  );
  assert.equal(failed.type, 'Warning');
  assert.equal(failed.message, expected);
  assert.equal((await c.get<Obj>('/api/v1/namespaces/default/pods/waits')).spec.nodeName, undefined);

  // A node that fits appears: the waiting pod goes there.
  await createNode(c, 'big', '4', 'True');
  const placed = await eventually('waiting pod placed', async () => {
    const p = await c.get<Obj>('/api/v1/namespaces/default/pods/waits');
    return p.spec.nodeName;
  });
  assert.equal(placed, 'big');
  // The event is recorded after the binding, so it may trail the nodeName by a moment.
  const scheduledBig = await eventually('Scheduled event', async () => (await events(c, 'waits', 'Scheduled'))[0]);
  assert.equal(scheduledBig.message, 'Successfully assigned default/waits to big');
});

test('node lifecycle - a node whose Lease stops is Unknown and tainted, its pods not Ready or evicted; back when renewed', async (t) => {
  const cp = await startTestControlPlane(
    t,
    {},
    { nodeLifecycle: { nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 200 } }
  );
  const c = adminClient(cp);
  t.after(() => c.close());
  await defaultServiceAccount(c);
  await createNode(c, 'n1', '2', 'True');
  await renewLease(c, 'n1');
  // A Ready pod bound to the node.
  await c.request('POST', '/api/v1/namespaces/default/pods', {
    ...pod('on-n1', '100m'),
    spec: { ...pod('', '1m').spec, nodeName: 'n1' },
  });
  const p = await c.get<Obj>('/api/v1/namespaces/default/pods/on-n1');
  const now = rfc3339();
  p.status = {
    phase: 'Running',
    podIP: '10.0.0.5',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
  };
  await c.request('PUT', '/api/v1/namespaces/default/pods/on-n1/status', p);
  // A pod that tolerates an unreachable node for one second only.
  const brief = {
    key: 'node.kubernetes.io/unreachable',
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 1,
  };
  await c.request('POST', '/api/v1/namespaces/default/pods', {
    ...pod('brief', '100m'),
    spec: { ...pod('', '1m').spec, nodeName: 'n1', tolerations: [brief] },
  });

  // While the lease is renewed, nothing happens.
  const renewing = setInterval(() => void renewLease(c, 'n1').catch(() => undefined), 500);
  // Longer than the grace period: only the renewals keep it Ready.
  await new Promise((r) => setTimeout(r, 4000));
  clearInterval(renewing);
  let node = await c.get<Obj>('/api/v1/nodes/n1');
  assert.equal(node.status.conditions.find((x: Obj) => x.type === 'Ready').status, 'True');
  assert.deepEqual(node.spec?.taints ?? [], []);

  // The lease stops: Unknown, unreachable taints, pod not Ready.
  node = await eventually('node Unknown', async () => {
    const n = await c.get<Obj>('/api/v1/nodes/n1');
    return n.spec?.taints?.length === 2 ? n : undefined;
  });
  const ready = node.status.conditions.find((x: Obj) => x.type === 'Ready');
  assert.equal(ready.status, 'Unknown');
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  assert.deepEqual(
    node.spec.taints.map((x: Obj) => `${x.key}:${x.effect}`),
    ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']
  );
  await eventually('pod not Ready', async () => {
    const q = await c.get<Obj>('/api/v1/namespaces/default/pods/on-n1');
    return q.status.conditions.find((x: Obj) => x.type === 'Ready')?.status === 'False' || undefined;
  });
  // The pod with the short toleration is evicted (deleted gracefully: its kubelet would finish it); the one
  // with the default 300 s toleration stays.
  const evicted = await eventually('pod evicted', async () => {
    const q = await c.get<Obj>('/api/v1/namespaces/default/pods/brief');
    return q.metadata.deletionTimestamp ? q : undefined;
  });
  const disruption = evicted.status.conditions.find((x: Obj) => x.type === 'DisruptionTarget');
  assert.equal(disruption?.reason, 'DeletionByTaintManager');
  assert.equal((await c.get<Obj>('/api/v1/namespaces/default/pods/on-n1')).metadata.deletionTimestamp, undefined);
  await eventually('NodeNotReady event', async () => {
    const list = await c.get<{ items: Obj[] }>(
      `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.name=n1,reason=NodeNotReady')}`
    );
    return list.items[0];
  });

  // The kubelet comes back reporting NotReady: the taints become not-ready.
  await renewLease(c, 'n1');
  await postStatus(c, 'n1', 'False', '2');
  await eventually('not-ready taints', async () => {
    const n = await c.get<Obj>('/api/v1/nodes/n1');
    const keys = (n.spec?.taints ?? []).map((x: Obj) => `${x.key}:${x.effect}`).join(',');
    return keys === 'node.kubernetes.io/not-ready:NoSchedule,node.kubernetes.io/not-ready:NoExecute' || undefined;
  });

  // Ready again, lease renewed: the taints go.
  const keepAlive = setInterval(() => void renewLease(c, 'n1').catch(() => undefined), 500);
  t.after(() => clearInterval(keepAlive));
  await postStatus(c, 'n1', 'True', '2');
  await eventually('taints removed', async () => {
    const n = await c.get<Obj>('/api/v1/nodes/n1');
    return (n.spec?.taints ?? []).length === 0 || undefined;
  });
  node = await c.get<Obj>('/api/v1/nodes/n1');
  assert.equal(node.status.conditions.find((x: Obj) => x.type === 'Ready').status, 'True');
});
