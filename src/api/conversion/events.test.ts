import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreToEventsV1, eventsV1ToCore } from './events.js';

test('events conversion - events.k8s.io/v1 round-trips through the stored core/v1 shape', () => {
  const v1 = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'e1', namespace: 'default' },
    eventTime: '2026-11-22T20:00:00.000000Z',
    reportingController: 'hubspoke/scheduler',
    reportingInstance: 'scheduler-1',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
    note: '0/0 nodes are available',
    type: 'Warning',
    deprecatedCount: 3,
  };
  const core = eventsV1ToCore(v1);
  assert.deepEqual(core, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    message: '0/0 nodes are available',
    count: 3,
    reportingComponent: 'hubspoke/scheduler',
    eventTime: '2026-11-22T20:00:00.000000Z',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    reportingInstance: 'scheduler-1',
    type: 'Warning',
  });
  assert.deepEqual(coreToEventsV1(core), v1);
});
