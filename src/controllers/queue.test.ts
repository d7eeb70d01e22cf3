import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../lib/log.js';
import { WorkQueue } from './queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('WorkQueue - dedups waiting keys, re-runs a key added while it runs, never runs a key twice at once', async (t) => {
  const stop = new AbortController();
  t.after(() => stop.abort());
  const runs: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const q = new WorkQueue(
    async (key) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs.push(key);
      await tick(30);
      running--;
    },
    silentLogger,
    stop.signal
  );
  q.add('a');
  q.add('a');
  q.add('b');
  await tick(10);
  q.add('a'); // while a runs: once more afterwards
  q.add('a');
  await tick(100);
  assert.deepEqual(runs.sort(), ['a', 'a', 'b']);
  assert.equal(maxRunning, 2); // a and b in parallel, never two a's
});

test('WorkQueue - retries failures with backoff; stops when aborted', async () => {
  const stop = new AbortController();
  let attempts = 0;
  const q = new WorkQueue(
    async () => {
      attempts++;
      if (attempts < 3) throw new Error('not yet');
    },
    silentLogger,
    stop.signal,
    { baseDelayMs: 10 }
  );
  q.add('k');
  await tick(100);
  assert.equal(attempts, 3);
  stop.abort();
  q.add('k');
  await tick(30);
  assert.equal(attempts, 3);
});
