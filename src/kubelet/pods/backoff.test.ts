import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.js';
import { goDuration } from './worker.js';

test('crash back-off: 10 s doubling to 5 min, measured from the last exit, reset after 10 min', () => {
  const b = new Backoff();
  const t0 = 1_000_000;
  assert.equal(b.remaining('p/c', t0, t0), 0, 'the first restart is immediate');
  assert.equal(b.next('p/c', t0), 10_000);
  assert.equal(b.remaining('p/c', t0 + 1000, t0 + 4000), 7000);
  let t = t0;
  const seen = [];
  for (let i = 0; i < 7; i++) seen.push(b.next('p/c', (t += 1000)));
  assert.deepEqual(seen, [20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.equal(b.remaining('p/c', t + 600_001, t + 600_001), 0);
  assert.equal(b.next('p/c', t + 600_001), 10_000);
  assert.deepEqual([goDuration(10_000), goDuration(80_000), goDuration(300_000)], ['10s', '1m20s', '5m0s']);
});
