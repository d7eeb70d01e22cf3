import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointSliceFor, endpointSubsets, liveAPIServers } from './kubernetes-service.js';

const now = Date.parse('2026-12-02T00:00:00Z');
const lease = (name: string, ip: string, port: string, renewedSecondsAgo: number, duration = 15) => ({
  metadata: {
    name,
    annotations: { 'hubspoke.io/advertise-address': ip, 'hubspoke.io/secure-port': port },
  },
  spec: { renewTime: new Date(now - renewedSecondsAgo * 1000).toISOString(), leaseDurationSeconds: duration },
});
const local = { ip: '10.0.0.9', port: 6443 };

test('liveAPIServers - only unexpired leases with a usable address; the local server when none', () => {
  const leases = [
    lease('b', '10.0.0.2', '6443', 1),
    lease('a', '10.0.0.1', '6443', 14),
    lease('expired', '10.0.0.3', '6443', 16),
    lease('bad-ip', 'example.com', '6443', 1),
    lease('bad-port', '10.0.0.4', 'https', 1),
    { metadata: { name: 'no-spec' } },
  ];
  assert.deepEqual(liveAPIServers(leases, local, now), [
    { ip: '10.0.0.1', port: 6443 },
    { ip: '10.0.0.2', port: 6443 },
  ]);
  assert.deepEqual(liveAPIServers([lease('expired', '10.0.0.3', '6443', 60)], local, now), [local]);
  assert.deepEqual(liveAPIServers([], local, now), [local]);
});

test('endpointSubsets and endpointSliceFor - one subset per port, the local port first; the slice mirrors it', () => {
  const servers = [
    { ip: '10.0.0.1', port: 6443 },
    { ip: '10.0.0.2', port: 7443 },
    { ip: '10.0.0.3', port: 6443 },
  ];
  const subsets = endpointSubsets(servers, 7443);
  assert.deepEqual(subsets, [
    { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'https', port: 7443, protocol: 'TCP' }] },
    { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.3' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
  ]);
  const slice = endpointSliceFor(subsets);
  assert.equal(slice.addressType, 'IPv4');
  assert.deepEqual(slice.metadata.labels, { 'kubernetes.io/service-name': 'kubernetes' });
  assert.deepEqual(slice.endpoints, [{ addresses: ['10.0.0.2'], conditions: { ready: true } }]);
  assert.deepEqual(slice.ports, [{ name: 'https', port: 7443, protocol: 'TCP' }]);
  const v6 = endpointSliceFor(endpointSubsets([{ ip: 'fd00::1', port: 6443 }], 6443));
  assert.equal(v6.addressType, 'IPv6');
  assert.deepEqual(v6.endpoints, [{ addresses: ['fd00::1'], conditions: { ready: true } }]);
});
