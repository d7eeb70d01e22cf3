import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import {
  checkContainerLogStatus,
  podContainer,
  podProxyTarget,
  serviceProxyTarget,
  splitSchemeNamePort,
} from './location.js';

test('name forms: name, name:port, scheme:name:port; two parts are never a scheme', () => {
  assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
  assert.deepEqual(splitSchemeNamePort('web:8000'), { scheme: '', name: 'web', port: '8000' });
  assert.deepEqual(splitSchemeNamePort('web:http-alt'), { scheme: '', name: 'web', port: 'http-alt' });
  assert.deepEqual(splitSchemeNamePort('https:web:443'), { scheme: 'https', name: 'web', port: '443' });
  assert.deepEqual(splitSchemeNamePort('https:web:'), { scheme: 'https', name: 'web', port: '' });
  assert.deepEqual(splitSchemeNamePort('https:web'), { scheme: '', name: 'https', port: 'web' });
  assert.equal(splitSchemeNamePort('ftp:web:21'), undefined);
  assert.equal(splitSchemeNamePort(':80'), undefined);
  assert.equal(splitSchemeNamePort('a:b:c:d'), undefined);
});

const pod = (containers: string[], init: string[] = []): Pod => ({
  metadata: { name: 'p' },
  spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
});

test('container defaulting and upstream messages', () => {
  assert.equal(podContainer(pod(['a']), null), 'a');
  assert.throws(() => podContainer(pod(['a', 'b'], ['i']), null), {
    message: 'a container name must be specified for pod p, choose one of: [a b i]',
  });
  assert.throws(() => podContainer(pod(['a']), 'x'), { message: 'container x is not valid for pod p' });
  assert.equal(podContainer(pod(['a'], ['i']), 'i'), 'i');
  const waiting: Pod = {
    ...pod(['a']),
    status: { containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } } as never] },
  };
  assert.throws(() => checkContainerLogStatus(waiting, 'a', false), {
    message: 'container "a" in pod "p" is waiting to start: ContainerCreating',
  });
  assert.throws(
    () => checkContainerLogStatus(waiting, 'a', true),
    /previous terminated container "a" in pod "p" not found/
  );
});

test('pods/proxy: pod IP, given or first declared port; loopback refused unless allowed', () => {
  const p: Pod = {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', ports: [{ containerPort: 8080 }] }] },
    status: { podIPs: [{ ip: '10.1.0.7' }] },
  };
  assert.deepEqual(podProxyTarget(p, { scheme: '', name: 'p', port: '' }, false), {
    scheme: 'http',
    host: '10.1.0.7',
    port: 8080,
  });
  assert.deepEqual(podProxyTarget(p, { scheme: 'https', name: 'p', port: '8443' }, false), {
    scheme: 'https',
    host: '10.1.0.7',
    port: 8443,
  });
  const lo = { ...p, status: { podIPs: [{ ip: '127.0.0.1' }] } };
  assert.throws(() => podProxyTarget(lo, { scheme: '', name: 'p', port: '' }, false), /address not allowed/);
  assert.equal(podProxyTarget(lo, { scheme: '', name: 'p', port: '' }, true).host, '127.0.0.1');
});

test('services/proxy: a port number maps to its name, then to an endpoint', () => {
  const svc: Service = { metadata: { name: 's' }, spec: { ports: [{ name: 'web', port: 80 }, { port: 81 }] } };
  const eps: Endpoints = {
    subsets: [{ addresses: [{ ip: '10.1.0.9' }], ports: [{ name: 'web', port: 8080 }] }],
  };
  const first = (): number => 0;
  assert.deepEqual(serviceProxyTarget(svc, eps, { scheme: '', name: 's', port: '80' }, first), {
    scheme: 'http',
    host: '10.1.0.9',
    port: 8080,
  });
  assert.equal(serviceProxyTarget(svc, eps, { scheme: 'https', name: 's', port: 'web' }, first).scheme, 'https');
  assert.throws(() => serviceProxyTarget(svc, eps, { scheme: '', name: 's', port: '99' }), {
    message: 'no service port 99 found for service "s"',
  });
  assert.throws(() => serviceProxyTarget(svc, undefined, { scheme: '', name: 's', port: 'web' }), {
    message: 'no endpoints available for service "s"',
  });
});
