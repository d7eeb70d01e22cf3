import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceSpec, ServiceStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { servicePrinter } from './service.js';

const now = new Date('2024-05-01T12:00:00Z');

function svc(name: string, spec: ServiceSpec, status?: ServiceStatus): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-05-01T11:50:00Z' },
    spec,
    status,
  };
}

const cases: { name: string; svc: KubeObject; want: unknown[] }[] = [
  {
    name: 'ClusterIP with several ports and a selector',
    svc: svc('kube-dns', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
      selector: { 'k8s-app': 'kube-dns' },
    }),
    want: ['kube-dns', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '10m', 'k8s-app=kube-dns'],
  },
  {
    name: 'ClusterIP without a selector, type and protocol defaulted',
    svc: svc('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] }),
    want: ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', '10m', '<none>'],
  },
  {
    name: 'ClusterIP with external IPs, selector keys sorted',
    svc: svc('web', {
      type: 'ClusterIP',
      clusterIPs: ['10.96.3.4'],
      externalIPs: ['192.0.2.1', '192.0.2.2'],
      ports: [{ port: 80, protocol: 'TCP' }],
      selector: { tier: 'front', app: 'web' },
    }),
    want: ['web', 'ClusterIP', '10.96.3.4', '192.0.2.1,192.0.2.2', '80/TCP', '10m', 'app=web,tier=front'],
  },
  {
    name: 'headless without ports',
    svc: svc('db', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: { app: 'db' } }),
    want: ['db', 'ClusterIP', 'None', '<none>', '<none>', '10m', 'app=db'],
  },
  {
    name: 'NodePort',
    svc: svc('web', {
      type: 'NodePort',
      clusterIPs: ['10.96.5.6'],
      ports: [
        { port: 80, nodePort: 30080, protocol: 'TCP' },
        { port: 443, nodePort: 30443, protocol: 'TCP' },
      ],
    }),
    want: ['web', 'NodePort', '10.96.5.6', '<none>', '80:30080/TCP,443:30443/TCP', '10m', '<none>'],
  },
  {
    name: 'LoadBalancer waiting for an address',
    svc: svc('edge', {
      type: 'LoadBalancer',
      clusterIPs: ['10.96.7.8'],
      ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }],
    }),
    want: ['edge', 'LoadBalancer', '10.96.7.8', '<pending>', '443:31443/TCP', '10m', '<none>'],
  },
  {
    name: 'LoadBalancer with addresses, sorted and not clipped',
    svc: svc(
      'edge',
      { type: 'LoadBalancer', clusterIPs: ['10.96.7.8'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] },
      { loadBalancer: { ingress: [{ hostname: 'a-very-long-lb-name.example.com' }, { ip: '203.0.113.10' }] } }
    ),
    want: [
      'edge',
      'LoadBalancer',
      '10.96.7.8',
      '203.0.113.10,a-very-long-lb-name.example.com',
      '443:31443/TCP',
      '10m',
      '<none>',
    ],
  },
  {
    name: 'LoadBalancer addresses followed by external IPs',
    svc: svc(
      'edge',
      {
        type: 'LoadBalancer',
        clusterIPs: ['10.96.7.8'],
        externalIPs: ['198.51.100.1'],
        ports: [{ port: 80, nodePort: 30000, protocol: 'TCP' }],
      },
      { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } }
    ),
    want: ['edge', 'LoadBalancer', '10.96.7.8', '203.0.113.10,198.51.100.1', '80:30000/TCP', '10m', '<none>'],
  },
  {
    name: 'ExternalName',
    svc: svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
    want: ['ext', 'ExternalName', '<none>', 'db.example.com', '<none>', '10m', '<none>'],
  },
];

for (const tc of cases) {
  void test(`service printer - ${tc.name}`, () => {
    assert.deepEqual(servicePrinter.cells(tc.svc, now), tc.want);
  });
}

void test('service printer - columns', () => {
  assert.deepEqual(
    servicePrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Type', 0],
      ['Cluster-IP', 0],
      ['External-IP', 0],
      ['Port(s)', 0],
      ['Age', 0],
      ['Selector', 1],
    ]
  );
});
