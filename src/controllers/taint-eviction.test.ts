import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { evictionDelayMs, withDefaultTolerations } from './taint-eviction.js';

const pod = (tolerations?: Toleration[]): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], tolerations } });
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };

test('withDefaultTolerations - 300 s for not-ready and unreachable unless the pod tolerates them', () => {
  assert.deepEqual(
    withDefaultTolerations(pod()).map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`),
    ['node.kubernetes.io/not-ready:NoExecute:300', 'node.kubernetes.io/unreachable:NoExecute:300']
  );
  const own: Toleration = { key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
  assert.deepEqual(withDefaultTolerations(pod([own])).slice(0, 1), [own]);
  assert.equal(withDefaultTolerations(pod([own])).length, 2);
  // Tolerating everything covers both.
  assert.equal(withDefaultTolerations(pod([{ operator: 'Exists' }])).length, 1);
});

test('evictionDelayMs - untolerated now, the shortest tolerationSeconds, or never', () => {
  assert.equal(evictionDelayMs(pod(), []), undefined);
  assert.equal(evictionDelayMs(pod(), [{ key: 'k', effect: 'NoSchedule' }]), undefined);
  assert.equal(evictionDelayMs(pod(), [unreachable]), 300_000);
  assert.equal(evictionDelayMs(pod(), [{ key: 'dedicated', effect: 'NoExecute' }]), 0);
  const short: Toleration = { key: notReady.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 };
  assert.equal(evictionDelayMs(pod([short]), [unreachable, notReady]), 2000);
  assert.equal(
    evictionDelayMs(pod([{ operator: 'Exists' }]), [unreachable, { key: 'x', effect: 'NoExecute' }]),
    undefined
  );
  const negative: Toleration = { ...short, tolerationSeconds: -5 };
  assert.equal(evictionDelayMs(pod([negative]), [notReady]), 0);
});
