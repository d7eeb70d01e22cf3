import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreEventPrinter, eventsEventPrinter } from './event.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const micro = (seconds: number): string => ago(seconds).replace('Z', '123Z');
const meta = { name: 'web.17c8a3b2', namespace: 'default', creationTimestamp: ago(600) };

const cases: { name: string; printer: typeof coreEventPrinter; event: Record<string, unknown>; want: unknown[] }[] = [
  {
    name: 'core/v1 event from the kubelet, repeated',
    printer: coreEventPrinter,
    event: {
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      type: 'Warning',
      message: 'Back-off restarting failed container app\n',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(600),
      lastTimestamp: ago(120),
      count: 3,
    },
    want: [
      '2m',
      'Warning',
      'BackOff',
      'pod/web',
      'spec.containers{app}',
      'kubelet, node-1',
      'Back-off restarting failed container app',
      '10m',
      3,
      'web.17c8a3b2',
    ],
  },
  {
    name: 'core/v1 event written by the newer API: eventTime and reporting controller',
    printer: coreEventPrinter,
    event: {
      involvedObject: { kind: 'Pod', name: 'web' },
      reason: 'Scheduled',
      type: 'Normal',
      message: 'Successfully assigned default/web to node-1',
      eventTime: micro(30),
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-cp-1',
    },
    want: [
      '30s',
      'Normal',
      'Scheduled',
      'pod/web',
      '',
      'default-scheduler, default-scheduler-cp-1',
      'Successfully assigned default/web to node-1',
      '30s',
      1,
      'web.17c8a3b2',
    ],
  },
  {
    name: 'core/v1 event with a series',
    printer: coreEventPrinter,
    event: {
      involvedObject: { kind: 'Node' },
      reason: 'NodeNotReady',
      type: 'Normal',
      eventTime: micro(900),
      series: { count: 5, lastObservedTime: micro(60) },
      source: { component: 'node-controller' },
    },
    want: ['60s', 'Normal', 'NodeNotReady', 'node', '', 'node-controller', '', '15m', 5, 'web.17c8a3b2'],
  },
  {
    name: 'events.k8s.io/v1 singleton',
    printer: eventsEventPrinter,
    event: {
      regarding: { kind: 'Node', name: 'node-1', uid: 'node-1' },
      note: 'Starting kubelet.',
      reason: 'Starting',
      type: 'Normal',
      action: 'Starting',
      eventTime: micro(300),
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
    },
    want: [
      '5m',
      'Normal',
      'Starting',
      'node/node-1',
      '',
      'kubelet, node-1',
      'Starting kubelet.',
      '5m',
      1,
      'web.17c8a3b2',
    ],
  },
  {
    name: 'events.k8s.io/v1 with deprecated fields from an old writer',
    printer: eventsEventPrinter,
    event: {
      regarding: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      note: 'Pulling image "nginx"',
      reason: 'Pulling',
      type: 'Normal',
      eventTime: null,
      reportingController: 'kubelet',
      deprecatedSource: { component: 'kubelet', host: 'node-2' },
      deprecatedFirstTimestamp: ago(3600),
      deprecatedLastTimestamp: ago(40),
      deprecatedCount: 4,
    },
    want: [
      '40s',
      'Normal',
      'Pulling',
      'pod/web',
      'spec.containers{app}',
      'kubelet, node-2',
      'Pulling image "nginx"',
      '60m',
      4,
      'web.17c8a3b2',
    ],
  },
];

for (const tc of cases) {
  void test(`event printer - ${tc.name}`, () => {
    assert.deepEqual(tc.printer.cells({ metadata: meta, ...tc.event }, now), tc.want);
  });
}

void test('event printer - columns: wide ones at priority 1, Name last', () => {
  assert.deepEqual(
    coreEventPrinter.columns.map((c) => `${c.name}:${c.priority}`),
    [
      'Last Seen:0',
      'Type:0',
      'Reason:0',
      'Object:0',
      'Subobject:1',
      'Source:1',
      'Message:0',
      'First Seen:1',
      'Count:1',
      'Name:1',
    ]
  );
  assert.equal(coreEventPrinter.columns.at(-1)?.format, 'name');
  assert.deepEqual(eventsEventPrinter.columns, coreEventPrinter.columns);
});
