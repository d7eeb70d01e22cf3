import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { podPrinter } from './pod.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (minutes: number): string => new Date(now.getTime() - minutes * 60_000).toISOString();

function pod(p: { spec?: Partial<Pod['spec']>; status?: Pod['status']; deleting?: boolean }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'default',
      creationTimestamp: ago(10),
      ...(p.deleting ? { deletionTimestamp: ago(-1) } : {}),
    },
    spec: { containers: [{ name: 'app' }], ...p.spec },
    status: p.status,
  };
}

const running = (name: string, ready = true, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name,
  image: 'nginx',
  imageID: '',
  ready,
  restartCount: 0,
  started: true,
  state: { running: { startedAt: ago(9) } },
  ...extra,
});
const waiting = (name: string, reason: string, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name,
  image: 'nginx',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason } },
  ...extra,
});
const terminated = (
  name: string,
  t: { exitCode: number; reason?: string; signal?: number },
  extra: Partial<ContainerStatus> = {}
): ContainerStatus => ({
  name,
  image: 'busybox',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { terminated: { ...t, finishedAt: ago(1) } },
  ...extra,
});
const restartedAt = (minutes: number, count: number): Partial<ContainerStatus> => ({
  restartCount: count,
  lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(minutes) } },
});
const twoInits = { initContainers: [{ name: 'init-a' }, { name: 'init-b' }] };

interface Case {
  name: string;
  pod: KubeObject;
  /** NAME is always `web` and AGE `10m`: READY, STATUS, RESTARTS. */
  want: [string, string, string];
}

const cases: Case[] = [
  {
    name: 'pending without a node',
    pod: pod({
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
    }),
    want: ['0/1', 'Pending', '0'],
  },
  {
    name: 'no status at all',
    pod: pod({}),
    want: ['0/1', '', '0'],
  },
  {
    name: 'scheduling gated',
    pod: pod({
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    }),
    want: ['0/1', 'SchedulingGated', '0'],
  },
  {
    name: 'container creating',
    pod: pod({
      spec: { nodeName: 'node-1' },
      status: { phase: 'Pending', containerStatuses: [waiting('app', 'ContainerCreating')] },
    }),
    want: ['0/1', 'ContainerCreating', '0'],
  },
  {
    name: 'running and ready',
    pod: pod({
      spec: { containers: [{ name: 'app' }, { name: 'log' }] },
      status: { phase: 'Running', containerStatuses: [running('app'), running('log')] },
    }),
    want: ['2/2', 'Running', '0'],
  },
  {
    name: 'running with one container not ready',
    pod: pod({
      spec: { containers: [{ name: 'app' }, { name: 'log' }] },
      status: { phase: 'Running', containerStatuses: [running('app'), running('log', false)] },
    }),
    want: ['1/2', 'Running', '0'],
  },
  {
    name: 'crash loop back-off with the last restart',
    pod: pod({
      status: { phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', restartedAt(5, 5))] },
    }),
    want: ['0/1', 'CrashLoopBackOff', '5 (5m ago)'],
  },
  {
    name: 'restarts without a recorded termination',
    pod: pod({ status: { phase: 'Running', containerStatuses: [running('app', true, { restartCount: 2 })] } }),
    want: ['1/1', 'Running', '2'],
  },
  {
    name: 'the first container with a reason wins',
    pod: pod({
      spec: { containers: [{ name: 'app' }, { name: 'log' }] },
      status: {
        phase: 'Running',
        containerStatuses: [waiting('app', 'ImagePullBackOff'), waiting('log', 'CrashLoopBackOff', restartedAt(3, 1))],
      },
    }),
    want: ['0/2', 'ImagePullBackOff', '1 (3m ago)'],
  },
  {
    name: 'first init container running',
    pod: pod({
      spec: twoInits,
      status: {
        phase: 'Pending',
        initContainerStatuses: [running('init-a', false), waiting('init-b', 'PodInitializing')],
        containerStatuses: [waiting('app', 'PodInitializing')],
      },
    }),
    want: ['0/1', 'Init:0/2', '0'],
  },
  {
    name: 'second init container running',
    pod: pod({
      spec: twoInits,
      status: {
        phase: 'Pending',
        initContainerStatuses: [terminated('init-a', { exitCode: 0, reason: 'Completed' }), running('init-b', false)],
        containerStatuses: [waiting('app', 'PodInitializing')],
      },
    }),
    want: ['0/1', 'Init:1/2', '0'],
  },
  {
    name: 'init container crash looping',
    pod: pod({
      spec: twoInits,
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          waiting('init-a', 'CrashLoopBackOff', restartedAt(2, 3)),
          waiting('init-b', 'PodInitializing'),
        ],
        containerStatuses: [waiting('app', 'PodInitializing')],
      },
    }),
    want: ['0/1', 'Init:CrashLoopBackOff', '3 (2m ago)'],
  },
  {
    name: 'init container failed with a reason',
    pod: pod({
      spec: twoInits,
      status: { phase: 'Failed', initContainerStatuses: [terminated('init-a', { exitCode: 1, reason: 'Error' })] },
    }),
    want: ['0/1', 'Init:Error', '0'],
  },
  {
    name: 'init container exited without a reason',
    pod: pod({
      spec: twoInits,
      status: { phase: 'Pending', initContainerStatuses: [terminated('init-a', { exitCode: 2 })] },
    }),
    want: ['0/1', 'Init:ExitCode:2', '0'],
  },
  {
    name: 'init container killed by a signal',
    pod: pod({
      spec: twoInits,
      status: { phase: 'Pending', initContainerStatuses: [terminated('init-a', { exitCode: 137, signal: 9 })] },
    }),
    want: ['0/1', 'Init:Signal:9', '0'],
  },
  {
    name: 'init done, containers starting',
    pod: pod({
      spec: twoInits,
      status: {
        phase: 'Pending',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [
          terminated('init-a', { exitCode: 0, reason: 'Completed' }),
          terminated('init-b', { exitCode: 0, reason: 'Completed' }),
        ],
        containerStatuses: [waiting('app', 'PodInitializing')],
      },
    }),
    want: ['0/1', 'PodInitializing', '0'],
  },
  {
    name: 'sidecar counts towards ready and its restarts are kept',
    pod: pod({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [running('proxy', true, restartedAt(180, 1))],
        containerStatuses: [running('app', true, restartedAt(60, 2))],
      },
    }),
    want: ['2/2', 'Running', '3 (60m ago)'],
  },
  {
    name: 'completed',
    pod: pod({
      status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] },
    }),
    want: ['0/1', 'Completed', '0'],
  },
  {
    name: 'failed with a reason',
    pod: pod({ status: { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 1, reason: 'Error' })] } }),
    want: ['0/1', 'Error', '0'],
  },
  {
    name: 'container killed by a signal without a reason',
    pod: pod({ status: { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 137, signal: 9 })] } }),
    want: ['0/1', 'Signal:9', '0'],
  },
  {
    name: 'container exited without a reason',
    pod: pod({ status: { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 3 })] } }),
    want: ['0/1', 'ExitCode:3', '0'],
  },
  {
    name: 'evicted keeps the pod reason',
    pod: pod({ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } }),
    want: ['0/1', 'Evicted', '0'],
  },
  {
    name: 'one container completed, another running, pod not ready',
    pod: pod({
      spec: { containers: [{ name: 'job' }, { name: 'app' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [terminated('job', { exitCode: 0, reason: 'Completed' }), running('app')],
      },
    }),
    want: ['1/2', 'NotReady', '0'],
  },
  {
    name: 'one container completed, another running, pod ready',
    pod: pod({
      spec: { containers: [{ name: 'job' }, { name: 'app' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [terminated('job', { exitCode: 0, reason: 'Completed' }), running('app')],
      },
    }),
    want: ['1/2', 'Running', '0'],
  },
  {
    name: 'terminating',
    pod: pod({ deleting: true, status: { phase: 'Running', containerStatuses: [running('app')] } }),
    want: ['1/1', 'Terminating', '0'],
  },
  {
    name: 'deleted after it completed',
    pod: pod({
      deleting: true,
      status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] },
    }),
    want: ['0/1', 'Completed', '0'],
  },
  {
    name: 'deleted on an unreachable node',
    pod: pod({ deleting: true, status: { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] } }),
    want: ['1/1', 'Unknown', '0'],
  },
];

for (const tc of cases) {
  void test(`pod printer - ${tc.name}`, () => {
    const cells = podPrinter.cells(tc.pod, now);
    assert.deepEqual(cells.slice(0, 5), ['web', ...tc.want, '10m']);
  });
}

void test('pod printer - wide cells: IP, node, nominated node, readiness gates', () => {
  const scheduled = pod({
    spec: {
      nodeName: 'node-1',
      readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
    },
    status: {
      phase: 'Running',
      podIP: '10.244.0.5',
      podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }],
      nominatedNodeName: 'node-2',
      conditions: [
        { type: 'example.com/lb', status: 'True' },
        { type: 'example.com/dns', status: 'False' },
      ],
      containerStatuses: [running('app')],
    },
  });
  assert.deepEqual(podPrinter.cells(scheduled, now).slice(5), ['10.244.0.5', 'node-1', 'node-2', '1/2']);
  assert.deepEqual(podPrinter.cells(pod({ status: { phase: 'Pending' } }), now).slice(5), [
    '<none>',
    '<none>',
    '<none>',
    '<none>',
  ]);
  const onlyPodIP = pod({ status: { phase: 'Running', podIP: '10.244.0.9' } });
  assert.equal(podPrinter.cells(onlyPodIP, now)[5], '10.244.0.9');
});

void test('pod printer - columns are upstream names, wide ones at priority 1', () => {
  assert.deepEqual(
    podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ]
  );
  for (const c of podPrinter.columns) assert.ok(c.description.length > 0, c.name);
});

void test('pod printer - finished pods carry a Completed row condition', () => {
  assert.deepEqual(podPrinter.conditions?.(pod({ status: { phase: 'Succeeded' } })), [
    { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
  ]);
  assert.deepEqual(podPrinter.conditions?.(pod({ status: { phase: 'Failed' } })), [
    { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
  ]);
  assert.equal(podPrinter.conditions?.(pod({ status: { phase: 'Running' } })), undefined);
});
