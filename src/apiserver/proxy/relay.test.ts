import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Request } from '../context.js';
import { backendHeaders } from './relay.js';

const req = (raw: string[]): Request => ({ rawHeaders: raw, socket: { remoteAddress: '192.0.2.1' } }) as never;

test("the caller's credentials never reach the backend; hop-by-hop headers only on upgrades", () => {
  const raw = [
    'Authorization',
    'Bearer secret',
    'Impersonate-User',
    'bob',
    'Impersonate-Group',
    'system:masters',
    'Proxy-Authorization',
    'Basic x',
    'Host',
    'apiserver:6443',
    'Connection',
    'Upgrade',
    'Upgrade',
    'SPDY/3.1',
    'X-Stream-Protocol-Version',
    'v4.channel.k8s.io',
    'X-Stream-Protocol-Version',
    'v3.channel.k8s.io',
    'X-Forwarded-For',
    '198.51.100.1',
    'Accept',
    'text/plain',
  ];
  const up = backendHeaders(req(raw), '10.0.0.5:10250', true);
  assert.deepEqual(up, [
    'Connection',
    'Upgrade',
    'Upgrade',
    'SPDY/3.1',
    'X-Stream-Protocol-Version',
    'v4.channel.k8s.io',
    'X-Stream-Protocol-Version',
    'v3.channel.k8s.io',
    'Accept',
    'text/plain',
    'X-Forwarded-For',
    '198.51.100.1, 192.0.2.1',
    'Host',
    '10.0.0.5:10250',
  ]);
  const plain = backendHeaders(req([...raw, ':path', '/x']), 'pod:80', false);
  assert.deepEqual(plain, [
    'X-Stream-Protocol-Version',
    'v4.channel.k8s.io',
    'X-Stream-Protocol-Version',
    'v3.channel.k8s.io',
    'Accept',
    'text/plain',
    'X-Forwarded-For',
    '198.51.100.1, 192.0.2.1',
    'Host',
    'pod:80',
  ]);
});
