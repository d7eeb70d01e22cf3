import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../lib/kube-client.js';
import { containerCommand, containerEnv, expand, serviceEnv } from './env.js';

test('$(VAR) expansion as upstream: $$ escapes, unknown names stay', () => {
  const env: Record<string, string> = { A: 'a', B: 'b' };
  const look = (n: string): string | undefined => env[n];
  assert.equal(expand('$(A)-$(B)', look), 'a-b');
  assert.equal(expand('$$(A) $(C) $A $(', look), '$(A) $(C) $A $(');
});

test('service links for the kubernetes Service', () => {
  const env = serviceEnv([
    {
      metadata: { name: 'kubernetes' },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
    },
    { metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
  ]);
  assert.deepEqual(env, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
  });
});

test('service links: upstream names (upper case, - → _), every port, the first as the default', () => {
  const env = serviceEnv([
    {
      metadata: { name: 'my-svc' },
      spec: {
        clusterIP: '10.96.3.4',
        ports: [
          { name: 'http-alt', port: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      },
    },
  ]);
  assert.deepEqual(env, {
    MY_SVC_SERVICE_HOST: '10.96.3.4',
    MY_SVC_SERVICE_PORT: '8080',
    MY_SVC_SERVICE_PORT_HTTP_ALT: '8080',
    MY_SVC_SERVICE_PORT_DNS: '53',
    MY_SVC_PORT: 'tcp://10.96.3.4:8080',
    MY_SVC_PORT_8080_TCP: 'tcp://10.96.3.4:8080',
    MY_SVC_PORT_8080_TCP_PROTO: 'tcp',
    MY_SVC_PORT_8080_TCP_PORT: '8080',
    MY_SVC_PORT_8080_TCP_ADDR: '10.96.3.4',
    MY_SVC_PORT_53_UDP: 'udp://10.96.3.4:53',
    MY_SVC_PORT_53_UDP_PROTO: 'udp',
    MY_SVC_PORT_53_UDP_PORT: '53',
    MY_SVC_PORT_53_UDP_ADDR: '10.96.3.4',
  });
});

test('env with fieldRef, resourceFieldRef, configMap and secret refs, envFrom, then command expansion', async () => {
  const objects: Record<string, unknown> = {
    '/api/v1/namespaces/ns/configmaps/cm': { data: { color: 'blue', 'bad key': 'x' } },
    '/api/v1/namespaces/ns/secrets/s': { data: { pw: Buffer.from('hunter2').toString('base64') } },
  };
  const client = {
    get: async (path: string) => {
      if (path in objects) return objects[path];
      const { StatusError } = await import('../../api/errors.js');
      throw new StatusError(404, 'NotFound', 'not found');
    },
  } as unknown as KubeClient;
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'web' } },
    spec: {
      nodeName: 'n1',
      containers: [
        {
          name: 'c',
          command: ['echo', '$(GREETING)'],
          args: ['$(POD)', '$$(POD)'],
          resources: { limits: { memory: '64Mi' } },
          envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
          env: [
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'GREETING', value: 'hi $(POD) in $(CM_color)' },
            { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
            { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
          ],
        },
      ],
    },
  };
  const c = pod.spec!.containers[0]!;
  const ctx = { client, ips: { hostIP: '10.0.0.1', podIP: '10.0.0.1' }, allocatable: { cpu: '2' }, services: {} };
  const env = await containerEnv(pod, c, ctx);
  assert.deepEqual(env, {
    CM_color: 'blue',
    POD: 'p',
    APP: 'web',
    GREETING: 'hi p in blue',
    MEM: '64',
    CPU: '2000',
    PW: 'hunter2',
  });
  assert.deepEqual(containerCommand(c, env), ['echo', 'hi p in blue', 'p', '$(POD)']);

  const missing = {
    ...c,
    env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope' } } }],
    envFrom: [],
  };
  await assert.rejects(containerEnv(pod, missing, ctx), /couldn't find key nope in ConfigMap ns\/cm/);
  const gone = { ...c, env: [], envFrom: [{ secretRef: { name: 'other' } }] };
  await assert.rejects(containerEnv(pod, gone, ctx), /secret "other" not found/);
});
