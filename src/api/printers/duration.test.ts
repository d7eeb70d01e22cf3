import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanDuration, translateTimestampSince } from './duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

const durations: [number, string][] = [
  [0, '0s'],
  [1.9 * s, '1s'],
  [59 * s, '59s'],
  [119 * s, '119s'],
  [2 * m, '2m'],
  [2 * m + 10 * s, '2m10s'],
  [9 * m + 59 * s, '9m59s'],
  [10 * m + 30 * s, '10m'],
  [179 * m, '179m'],
  [3 * h, '3h'],
  [3 * h + 2 * m + 40 * s, '3h2m'],
  [7 * h + 59 * m, '7h59m'],
  [8 * h + 30 * m, '8h'],
  [47 * h + 59 * m, '47h'],
  [2 * d, '2d'],
  [2 * d + 3 * h + 5 * m, '2d3h'],
  [7 * d + 23 * h, '7d23h'],
  [8 * d + 5 * h, '8d'],
  [45 * d, '45d'],
  [729 * d, '729d'],
  [730 * d, '2y'],
  [733 * d + 4 * h, '2y3d'],
  [8 * 365 * d, '8y'],
  [10 * 365 * d + 5 * d, '10y'],
  // Up to two seconds of clock skew reads as now; more is an error.
  [-1 * s, '0s'],
  [-1.5 * s, '0s'],
  [-2 * s, '<invalid>'],
  [-1 * h, '<invalid>'],
];

for (const [ms, want] of durations) {
  void test(`humanDuration - ${ms}ms is ${want}`, () => {
    assert.equal(humanDuration(ms), want);
  });
}

void test('translateTimestampSince - unset, zero and unparsable timestamps are <unknown>', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  for (const ts of [undefined, null, '', '0001-01-01T00:00:00Z', 'yesterday']) {
    assert.equal(translateTimestampSince(ts, now), '<unknown>', String(ts));
  }
});

void test('translateTimestampSince - measures from now, MicroTime included', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  assert.equal(translateTimestampSince('2024-05-01T11:57:50Z', now), '2m10s');
  assert.equal(translateTimestampSince('2024-05-01T11:59:59.500000Z', now), '0s');
  assert.equal(translateTimestampSince('2024-04-29T09:00:00Z', now), '2d3h');
  assert.equal(translateTimestampSince('2024-05-01T12:00:05Z', now), '<invalid>');
});
