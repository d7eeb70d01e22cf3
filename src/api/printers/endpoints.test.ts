import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSubset } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../resource.js';
import { endpointSlicePrinter, endpointsPrinter } from './endpoints.js';

const now = new Date('2024-05-01T12:00:00Z');
const meta = { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:50:00Z' };
const addrs = (...ips: string[]) => ips.map((ip) => ({ ip }));

const endpointsCases: { name: string; subsets?: EndpointSubset[]; want: string }[] = [
  { name: 'no subsets', want: '<none>' },
  {
    name: 'one port',
    subsets: [{ addresses: addrs('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }] }],
    want: '10.0.0.1:80,10.0.0.2:80',
  },
  {
    name: 'more than three, counting every address of every port',
    subsets: [{ addresses: addrs('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }, { port: 443 }] }],
    want: '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...',
  },
  {
    name: 'more than three across subsets',
    subsets: [
      { addresses: addrs('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'), ports: [{ port: 8080 }] },
      { addresses: addrs('10.0.1.1'), ports: [{ port: 9090 }] },
    ],
    want: '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...',
  },
  {
    name: 'headless without ports',
    subsets: [{ addresses: addrs('10.0.0.7', '10.0.0.8') }],
    want: '10.0.0.7,10.0.0.8',
  },
  {
    name: 'IPv6 in brackets',
    subsets: [{ addresses: addrs('fd00::1'), ports: [{ port: 8080 }] }],
    want: '[fd00::1]:8080',
  },
  {
    name: 'only not-ready addresses',
    subsets: [{ notReadyAddresses: addrs('10.0.0.9'), ports: [{ port: 80 }] }],
    want: '',
  },
];

for (const tc of endpointsCases) {
  void test(`endpoints printer - ${tc.name}`, () => {
    const obj = { apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets: tc.subsets };
    assert.deepEqual(endpointsPrinter.cells(obj, now), ['web', tc.want, '10m']);
  });
}

const sliceCases: { name: string; slice: Partial<EndpointSlice>; want: [string, string, string] }[] = [
  {
    name: 'IPv4 slice',
    slice: {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }],
    },
    want: ['IPv4', '80', '10.0.0.1,10.0.0.2'],
  },
  { name: 'empty slice', slice: { addressType: 'IPv6', endpoints: [] }, want: ['IPv6', '<unset>', '<unset>'] },
  {
    name: 'ports by name or any, and more than three',
    slice: {
      addressType: 'IPv4',
      ports: [{ port: 1 }, { name: 'metrics' }, {}, { port: 4 }],
      endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
    },
    want: ['IPv4', '1,metrics,* + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...'],
  },
];

for (const tc of sliceCases) {
  void test(`endpointslice printer - ${tc.name}`, () => {
    const obj = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta, name: 'web-x7k2p' },
      ...tc.slice,
    };
    assert.deepEqual(endpointSlicePrinter.cells(obj as KubeObject, now), ['web-x7k2p', ...tc.want, '10m']);
  });
}
