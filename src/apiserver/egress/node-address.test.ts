import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { defaultPreferredAddressTypes, nodeAddress } from './node-address.js';

test('node address: first address in preference order, kubelet port from daemonEndpoints', () => {
  const node: Node = {
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.5' },
        { type: 'Hostname', address: 'n1' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10251 } },
    },
  };
  assert.deepEqual(nodeAddress(node, defaultPreferredAddressTypes), { host: '10.0.0.5', port: 10251 });
  assert.deepEqual(nodeAddress(node, ['Hostname', 'InternalIP']), { host: 'n1', port: 10251 });
  assert.deepEqual(
    nodeAddress({ status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }] } }, ['InternalIP']),
    {
      host: '10.0.0.5',
      port: 10250,
    }
  );
  assert.throws(() => nodeAddress(node, ['ExternalDNS']), /no preferred addresses found/);
});
