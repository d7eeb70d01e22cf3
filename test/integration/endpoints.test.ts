// The Endpoints and EndpointSlice controllers through the real API server, each with its own identity
// (system:controller:endpoint-controller, system:controller:endpointslice-controller): a Service's Endpoints
// and EndpointSlice follow its pods' readiness and deletion, named target ports resolve per pod (a pod without
// the name is only on the other port), the selector-less `kubernetes` Service is left alone, and kubectl 1.27
// and 1.33 print both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonEqual, rfc3339 } from '../../src/api/meta.js';
import type { KubeClient } from '../../src/lib/kube-client.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';
import { kubectl } from '../framework/kubectl.js';

type Obj = Record<string, any>;
const ns = 'default';

/** A pod as a kubelet would leave it: bound, Running, with an IP, Ready or not. */
async function runPod(c: KubeClient, name: string, ip: string, ready: boolean, httpPort?: number): Promise<void> {
  await c.request('POST', `/api/v1/namespaces/${ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: {
      nodeName: 'n1',
      containers: [
        {
          name: 'web',
          image: 'python3',
          ports: httpPort === undefined ? [] : [{ name: 'http', containerPort: httpPort }],
        },
      ],
    },
  });
  await setReady(c, name, ip, ready);
}

async function setReady(c: KubeClient, name: string, ip: string, ready: boolean): Promise<void> {
  const p = await c.get<Obj>(`/api/v1/namespaces/${ns}/pods/${name}`);
  p.status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: rfc3339() }],
  };
  await c.request('PUT', `/api/v1/namespaces/${ns}/pods/${name}/status`, p);
}

const ips = (addrs: Obj[] | undefined): string[] => (addrs ?? []).map((a) => a.ip).sort();

/** The Endpoints as `port → [ready ips, not-ready ips]`. */
async function endpointsByPort(c: KubeClient): Promise<Record<string, [string[], string[]]> | undefined> {
  const ep = await c.get<Obj>(`/api/v1/namespaces/${ns}/endpoints/web`);
  const out: Record<string, [string[], string[]]> = {};
  for (const ss of ep.subsets ?? [])
    for (const p of ss.ports ?? []) out[`${p.name}:${p.port}`] = [ips(ss.addresses), ips(ss.notReadyAddresses)];
  return out;
}

async function slices(c: KubeClient): Promise<Obj[]> {
  const sel = encodeURIComponent('kubernetes.io/service-name=web');
  return (
    await c.get<{ items: Obj[] }>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)
  ).items;
}

/** Every slice's endpoints as `ports → ip:ready/serving/terminating`, sorted. */
async function sliceSummary(c: KubeClient): Promise<string[]> {
  const out: string[] = [];
  for (const s of await slices(c)) {
    const ports = (s.ports ?? [])
      .map((p: Obj) => `${p.name}:${p.port}`)
      .sort()
      .join(',');
    for (const e of s.endpoints ?? []) {
      const k = e.conditions;
      out.push(`${ports} ${e.addresses[0]} ${k.ready}/${k.serving}/${k.terminating} ${e.targetRef.name}@${e.nodeName}`);
    }
  }
  return out.sort();
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, want: T): Promise<void> {
  let last: T | undefined;
  await eventually(what, async () => {
    last = await fn();
    return jsonEqual(last, want) || undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
  });
}

test('endpoints and endpointslices follow pods: readiness, deletion, named ports; kubectl prints them', async (t) => {
  const cp = await startTestControlPlane(t);
  const c = adminClient(cp);
  t.after(() => c.close());
  await eventually('default ServiceAccount', () => c.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`));

  await c.request('POST', `/api/v1/namespaces/${ns}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { team: 'a' } },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'admin', port: 81, targetPort: 9000 },
      ],
    },
  });
  // No pods yet: empty Endpoints and a placeholder slice.
  await until('empty endpoints', () => endpointsByPort(c), {});
  const placeholder = await eventually('placeholder slice', async () => (await slices(c))[0]);
  assert.deepEqual(placeholder.endpoints ?? [], []);
  assert.equal(placeholder.addressType, 'IPv4');
  assert.equal(
    placeholder.metadata.labels['endpointslice.kubernetes.io/managed-by'],
    'endpointslice-controller.k8s.io'
  );
  assert.equal(placeholder.metadata.labels.team, 'a');
  assert.match(placeholder.metadata.generateName, /^web-$/);
  const svc = await c.get<Obj>(`/api/v1/namespaces/${ns}/services/web`);
  assert.deepEqual(placeholder.metadata.ownerReferences, [
    {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'web',
      uid: svc.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);

  await runPod(c, 'a', '10.1.0.1', true, 8080);
  await runPod(c, 'b', '10.1.0.2', false, 8081);
  // "c" defines no "http" port: it is only behind the admin port.
  await runPod(c, 'c', '10.1.0.3', true);
  await until('endpoints with three pods', () => endpointsByPort(c), {
    'http:8080': [['10.1.0.1'], []],
    'http:8081': [[], ['10.1.0.2']],
    'admin:9000': [['10.1.0.1', '10.1.0.3'], ['10.1.0.2']],
  });
  await until('slices with three pods', () => sliceSummary(c), [
    'admin:9000 10.1.0.3 true/true/false c@n1',
    'admin:9000,http:8080 10.1.0.1 true/true/false a@n1',
    'admin:9000,http:8081 10.1.0.2 false/false/false b@n1',
  ]);
  const ep = await c.get<Obj>(`/api/v1/namespaces/${ns}/endpoints/web`);
  assert.equal(ep.metadata.labels['endpoints.kubernetes.io/managed-by'], 'endpoint-controller');
  const addrA = ep.subsets.flatMap((s: Obj) => s.addresses ?? []).find((a: Obj) => a.ip === '10.1.0.1');
  assert.deepEqual(
    { kind: addrA.targetRef.kind, name: addrA.targetRef.name, nodeName: addrA.nodeName },
    { kind: 'Pod', name: 'a', nodeName: 'n1' }
  );

  // kubectl's tables.
  for (const minor of [27, 33]) {
    const k = kubectl(minor, cp.kubeconfigPath);
    const eps = await k.ok(['get', 'endpoints', 'web']);
    assert.match(eps, /^NAME\s+ENDPOINTS\s+AGE\n/);
    // Ready addresses only, by subset: the admin port's subset, then http's.
    assert.match(eps, /^web\s+10\.1\.0\.1:9000,10\.1\.0\.3:9000,10\.1\.0\.1:8080\s+\d+s\n$/m);
    const es = await k.ok(['get', 'endpointslices']);
    assert.match(es, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
    assert.match(es, /^web-\S+\s+IPv4\s+8080,9000\s+10\.1\.0\.1\s+\d+s$/m);
    // The `kubernetes` Service's own slice is someone else's: still there, untouched.
    assert.match(es, /^kubernetes\s+IPv4\s+/m);
  }

  // b becomes Ready, a is deleted.
  await setReady(c, 'b', '10.1.0.2', true);
  await c.request('DELETE', `/api/v1/namespaces/${ns}/pods/a?gracePeriodSeconds=0`);
  await until('endpoints after readiness and deletion', () => endpointsByPort(c), {
    'http:8081': [['10.1.0.2'], []],
    'admin:9000': [['10.1.0.2', '10.1.0.3'], []],
  });
  await until('slices after readiness and deletion', () => sliceSummary(c), [
    'admin:9000 10.1.0.3 true/true/false c@n1',
    'admin:9000,http:8081 10.1.0.2 true/true/false b@n1',
  ]);

  // Deleted by someone else: put back.
  await c.request('DELETE', `/api/v1/namespaces/${ns}/endpoints/web`);
  for (const s of await slices(c))
    await c.request('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${s.metadata.name}`);
  await until('endpoints restored', () => endpointsByPort(c).catch(() => undefined), {
    'http:8081': [['10.1.0.2'], []],
    'admin:9000': [['10.1.0.2', '10.1.0.3'], []],
  });
  await until('slices restored', () => sliceSummary(c), [
    'admin:9000 10.1.0.3 true/true/false c@n1',
    'admin:9000,http:8081 10.1.0.2 true/true/false b@n1',
  ]);

  // The Service goes: so do its Endpoints and slices.
  await c.request('DELETE', `/api/v1/namespaces/${ns}/services/web`);
  await eventually('endpoints deleted', async () => {
    try {
      await c.get(`/api/v1/namespaces/${ns}/endpoints/web`);
      return undefined;
    } catch {
      return (await slices(c)).length === 0 || undefined;
    }
  });
  // The `kubernetes` Service (no selector) still has its Endpoints.
  const k8s = await c.get<Obj>(`/api/v1/namespaces/${ns}/endpoints/kubernetes`);
  assert.ok(k8s.subsets?.[0]?.addresses?.length);
  assert.equal(k8s.metadata.labels?.['endpoints.kubernetes.io/managed-by'], undefined);
});
