import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ByteQueue } from './byte-queue.js';

test('pieces come out in order whatever the chunking; a piece inside one chunk is a view of it', () => {
  const all = randomBytes(10_000);
  for (const chunkSize of [1, 3, 7, 64, 4096, 10_000]) {
    const q = new ByteQueue();
    for (let i = 0; i < all.length; i += chunkSize) q.push(all.subarray(i, i + chunkSize));
    assert.equal(q.length, all.length);
    const out: Buffer[] = [];
    for (const n of [0, 1, 5, 100, 2000, 7894]) out.push(q.take(n));
    assert.equal(q.length, 0);
    assert.deepEqual(Buffer.concat(out), all, `chunks of ${chunkSize}`);
  }
  const q = new ByteQueue();
  const chunk = Buffer.from('abcdef');
  q.push(chunk);
  assert.equal(q.take(3).buffer, chunk.buffer);
});

test('peek joins the front when a header spans chunks and leaves it held; past the end is an error', () => {
  const q = new ByteQueue();
  q.push(Buffer.from('ab'));
  q.push(Buffer.from('cd'));
  q.push(Buffer.from('ef'));
  assert.equal(q.peek(3).toString(), 'abc');
  assert.equal(q.length, 6);
  assert.equal(q.take(6).toString(), 'abcdef');
  assert.throws(() => q.take(1), RangeError);
  assert.throws(() => q.peek(1), RangeError);
  q.push(Buffer.from('x'));
  q.clear();
  assert.equal(q.length, 0);
});
