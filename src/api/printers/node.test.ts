import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeSpec, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { nodePrinter } from './node.js';

const now = new Date('2024-05-01T12:00:00Z');

function node(labels: Record<string, string>, status: NodeStatus, spec: NodeSpec = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels, creationTimestamp: '2024-04-29T09:00:00Z' },
    spec,
    status,
  };
}

const nodeInfo = {
  architecture: 'amd64',
  bootID: '',
  containerRuntimeVersion: 'hubspoke://0.1.0',
  kernelVersion: '6.1.0-18-amd64',
  kubeProxyVersion: '',
  kubeletVersion: 'v1.30.0',
  machineID: '',
  operatingSystem: 'linux',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  systemUUID: '',
};

const cases: { name: string; node: KubeObject; want: unknown[] }[] = [
  {
    name: 'ready control plane with both role labels',
    node: node(
      {
        'kubernetes.io/hostname': 'node-1',
        'node-role.kubernetes.io/control-plane': '',
        'kubernetes.io/role': 'master',
      },
      {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        addresses: [
          { type: 'Hostname', address: 'node-1' },
          { type: 'InternalIP', address: '192.168.1.10' },
          { type: 'ExternalIP', address: '203.0.113.7' },
        ],
        nodeInfo,
      }
    ),
    want: [
      'node-1',
      'Ready',
      'control-plane,master',
      '2d3h',
      'v1.30.0',
      '192.168.1.10',
      '203.0.113.7',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0-18-amd64',
      'hubspoke://0.1.0',
    ],
  },
  {
    name: 'not ready and cordoned',
    node: node(
      { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/': '' },
      {
        conditions: [{ type: 'Ready', status: 'False' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.11' }],
        nodeInfo,
      },
      { unschedulable: true }
    ),
    want: ['node-1', 'NotReady,SchedulingDisabled', 'worker', '2d3h', 'v1.30.0', '192.168.1.11', '<none>'],
  },
  {
    name: 'Ready condition Unknown reads NotReady',
    node: node({}, { conditions: [{ type: 'Ready', status: 'Unknown' }], nodeInfo }),
    want: ['node-1', 'NotReady', '<none>', '2d3h', 'v1.30.0', '<none>', '<none>'],
  },
  {
    name: 'just registered: no conditions, no node info',
    node: node({}, {}),
    want: ['node-1', 'Unknown', '<none>', '2d3h', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>'],
  },
];

for (const tc of cases) {
  void test(`node printer - ${tc.name}`, () => {
    assert.deepEqual(nodePrinter.cells(tc.node, now).slice(0, tc.want.length), tc.want);
  });
}

void test('node printer - columns', () => {
  assert.deepEqual(
    nodePrinter.columns.map((c) => `${c.name}:${c.priority}`),
    [
      'Name:0',
      'Status:0',
      'Roles:0',
      'Age:0',
      'Version:0',
      'Internal-IP:1',
      'External-IP:1',
      'OS-Image:1',
      'Kernel-Version:1',
      'Container-Runtime:1',
    ]
  );
});
