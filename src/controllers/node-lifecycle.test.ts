import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, NodeCondition, Taint } from 'kubernetes-types/core/v1.js';
import { reconcileTaints, unknownConditions } from './node-lifecycle.js';

const now = '2026-01-01T00:00:00Z';
const node = (conditions: NodeCondition[], taints: Taint[] = [], unschedulable = false): Node => ({
  metadata: { name: 'n1', creationTimestamp: '2025-12-31T00:00:00Z' },
  spec: { taints, unschedulable },
  status: { conditions },
});

test('unknownConditions - kubelet conditions go Unknown with upstream reasons, heartbeat kept', () => {
  const n = node([
    { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2025-12-31T23:59:00Z' },
    { type: 'MemoryPressure', status: 'False' },
    { type: 'NetworkUnavailable', status: 'False' },
  ]);
  const c = unknownConditions(n, now)!;
  const ready = c.find((x) => x.type === 'Ready')!;
  assert.equal(ready.status, 'Unknown');
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  assert.equal(ready.lastHeartbeatTime, '2025-12-31T23:59:00Z');
  assert.equal(ready.lastTransitionTime, now);
  // Never posted: added as never updated. Conditions the kubelet does not own are left alone.
  const disk = c.find((x) => x.type === 'DiskPressure')!;
  assert.equal(disk.reason, 'NodeStatusNeverUpdated');
  assert.equal(disk.message, 'Kubelet never posted node status.');
  assert.equal(c.find((x) => x.type === 'NetworkUnavailable')!.status, 'False');
  assert.equal(unknownConditions({ ...n, status: { conditions: c } }, now), undefined);
});

test('reconcileTaints - unreachable and not-ready taints follow Ready; others are kept', () => {
  const foreign: Taint = { key: 'dedicated', value: 'x', effect: 'NoSchedule' };
  const unknown = reconcileTaints(node([{ type: 'Ready', status: 'Unknown' }], [foreign]), now);
  assert.deepEqual(unknown, [
    foreign,
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now },
  ]);
  // Already right: nothing to write.
  assert.equal(reconcileTaints(node([{ type: 'Ready', status: 'Unknown' }], unknown), now), undefined);
  // Kubelet says NotReady: unreachable swapped for not-ready.
  assert.deepEqual(
    reconcileTaints(node([{ type: 'Ready', status: 'False' }], unknown), now)?.map((t) => `${t.key}:${t.effect}`),
    ['dedicated:NoSchedule', 'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']
  );
  // Ready again: only the foreign taint stays.
  assert.deepEqual(reconcileTaints(node([{ type: 'Ready', status: 'True' }], unknown), now), [foreign]);
});

test('reconcileTaints - pressure conditions and cordon; registration taint kept until Ready is posted', () => {
  const pressured = reconcileTaints(
    node(
      [
        { type: 'Ready', status: 'True' },
        { type: 'MemoryPressure', status: 'True' },
      ],
      [],
      true
    ),
    now
  );
  assert.deepEqual(
    pressured?.map((t) => t.key),
    ['node.kubernetes.io/memory-pressure', 'node.kubernetes.io/unschedulable']
  );
  const registering = node([], [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  assert.equal(reconcileTaints(registering, now), undefined);
});
