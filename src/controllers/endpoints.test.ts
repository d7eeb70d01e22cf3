import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { findPort, shouldPodBeInEndpoints } from './endpoint-util.js';
import { computeEndpointSubsets, endpointsLabels } from './endpoints.js';
import { maxEndpointsPerSlice, planSlices } from './endpointslice.js';

const svc = (spec: Partial<NonNullable<Service['spec']>> = {}, labels?: Record<string, string>): Service => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels },
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP' },
    ],
    ...spec,
  },
});

function pod(
  name: string,
  ip: string | undefined,
  opts: { ready?: boolean; httpPort?: number; phase?: string; restartPolicy?: string; deleting?: boolean } = {}
): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: { app: 'web' },
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: 'n1',
      restartPolicy: opts.restartPolicy ?? 'Always',
      containers: [
        {
          name: 'c',
          ports: opts.httpPort === undefined ? [] : [{ name: 'http', containerPort: opts.httpPort }],
        },
      ],
    },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: ip,
      podIPs: ip ? [{ ip }] : [],
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

test('findPort - numbers as they are, names from the pod, protocol must match', () => {
  const p = pod('a', '10.0.0.1', { httpPort: 8080 });
  assert.equal(findPort(p, { port: 80, targetPort: 'http' }), 8080);
  assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
  assert.equal(findPort(p, { port: 80, targetPort: 'grpc' }), undefined);
  assert.equal(findPort(p, { port: 80, targetPort: 8081 }), 8081);
  assert.equal(findPort(p, { port: 80 }), 80);
});

test('shouldPodBeInEndpoints - no IP, finished, terminating', () => {
  assert.equal(shouldPodBeInEndpoints(pod('a', undefined), false), false);
  assert.equal(shouldPodBeInEndpoints(pod('a', '10.0.0.1'), false), true);
  assert.equal(
    shouldPodBeInEndpoints(pod('a', '10.0.0.1', { phase: 'Succeeded', restartPolicy: 'Never' }), false),
    false
  );
  assert.equal(
    shouldPodBeInEndpoints(pod('a', '10.0.0.1', { phase: 'Failed', restartPolicy: 'OnFailure' }), false),
    true
  );
  assert.equal(shouldPodBeInEndpoints(pod('a', '10.0.0.1', { deleting: true }), false), false);
  assert.equal(shouldPodBeInEndpoints(pod('a', '10.0.0.1', { deleting: true }), true), true);
});

test('computeEndpointSubsets - ready and not-ready, named ports per pod, packed by shared ports', () => {
  const pods = [
    pod('a', '10.0.0.2', { httpPort: 8080 }),
    pod('b', '10.0.0.10', { httpPort: 8080, ready: false }),
    // No "http" port: only reachable on the metrics port.
    pod('c', '10.0.0.3'),
    pod('d', undefined, { httpPort: 8080 }),
  ];
  const subsets = computeEndpointSubsets(svc(), pods);
  const ref = (n: string) => ({ kind: 'Pod', namespace: 'ns', name: n, uid: `uid-${n}` });
  assert.deepEqual(subsets, [
    {
      addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('a') }],
      notReadyAddresses: [{ ip: '10.0.0.10', nodeName: 'n1', targetRef: ref('b') }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
    {
      addresses: [
        { ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('a') },
        { ip: '10.0.0.3', nodeName: 'n1', targetRef: ref('c') },
      ],
      notReadyAddresses: [{ ip: '10.0.0.10', nodeName: 'n1', targetRef: ref('b') }],
      ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }],
    },
  ]);
  // publishNotReadyAddresses: everyone is ready.
  const all = computeEndpointSubsets(svc({ publishNotReadyAddresses: true }), pods.slice(0, 2));
  assert.equal(all.length, 1);
  assert.deepEqual(
    all[0]!.addresses?.map((a) => a.ip),
    ['10.0.0.2', '10.0.0.10']
  );
  assert.equal(all[0]!.notReadyAddresses, undefined);
  // Headless without ports: bare addresses.
  assert.deepEqual(computeEndpointSubsets(svc({ clusterIP: 'None', ports: [] }), [pods[0]!]), [
    { addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('a') }] },
  ]);
  assert.deepEqual(computeEndpointSubsets(svc(), []), []);
});

test('endpointsLabels - the Service labels plus the managed-by and headless markers', () => {
  assert.deepEqual(endpointsLabels(svc({ clusterIP: 'None' }, { team: 'x' })), {
    team: 'x',
    'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
    'service.kubernetes.io/headless': '',
  });
});

test('planSlices - slices per port set, conditions, placeholder, reuse and delete', () => {
  const s = svc();
  const pods = [
    pod('a', '10.0.0.2', { httpPort: 8080 }),
    pod('b', '10.0.0.3', { httpPort: 8080, deleting: true }),
    pod('c', '10.0.0.4'),
  ];
  const plan = planSlices(s, pods, []);
  assert.equal(plan.update.length + plan.delete.length, 0);
  assert.equal(plan.create.length, 2);
  const [full, partial] = plan.create as [EndpointSlice, EndpointSlice];
  assert.deepEqual(full.metadata?.labels, {
    'kubernetes.io/service-name': 'web',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  });
  assert.equal(full.metadata?.generateName, 'web-');
  assert.deepEqual(full.metadata?.ownerReferences, [
    { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true },
  ]);
  assert.equal(full.addressType, 'IPv4');
  assert.deepEqual(full.ports, [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ]);
  assert.deepEqual(
    full.endpoints.map((e) => [e.addresses[0], e.conditions]),
    [
      ['10.0.0.2', { ready: true, serving: true, terminating: false }],
      ['10.0.0.3', { ready: false, serving: true, terminating: true }],
    ]
  );
  assert.deepEqual(partial.ports, [{ name: 'metrics', port: 9100, protocol: 'TCP' }]);
  assert.equal(partial.endpoints[0]?.targetRef?.name, 'c');

  // Existing slices with the same ports are reused; unchanged ones are not rewritten; stale ones deleted.
  const live = (x: EndpointSlice, name: string): EndpointSlice => ({ ...x, metadata: { ...x.metadata, name } });
  const stale: EndpointSlice = { ...live(partial, 'web-old'), ports: [{ name: 'x', port: 1, protocol: 'TCP' }] };
  const again = planSlices(s, pods.slice(0, 2), [live(full, 'web-abc'), stale]);
  assert.deepEqual(again, { create: [], update: [], delete: [stale] });
  const changed = planSlices(s, [pods[0]!], [live(full, 'web-abc')]);
  assert.equal(changed.update.length, 1);
  assert.equal(changed.update[0]!.metadata?.name, 'web-abc');
  assert.equal(changed.update[0]!.endpoints.length, 1);

  // No pods: one placeholder with no ports and no endpoints.
  const empty = planSlices(s, [], [live(full, 'web-abc')]);
  assert.equal(empty.create.length, 1);
  assert.equal(empty.create[0]!.ports, undefined);
  assert.deepEqual(empty.create[0]!.endpoints, []);
  assert.equal(empty.delete.length, 1);
});

test('planSlices - at most 100 endpoints a slice', () => {
  const many = Array.from({ length: 150 }, (_, i) => pod(`p${i}`, `10.1.${i >> 8}.${i & 255}`, { httpPort: 8080 }));
  const plan = planSlices(svc(), many, []);
  assert.deepEqual(
    plan.create.map((s) => s.endpoints.length),
    [maxEndpointsPerSlice, 50]
  );
});
