// relay(): bytes arrive whole and in order, one tick's chunks leave as one writev, a slow destination pauses the
// source, and the end is passed on.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { relay } from './relay.js';

/** A Writable that records how its writes were batched; `hold` keeps each write's callback until released. */
function recorder(opts: { hold?: boolean } = {}) {
  const batches: number[][] = [];
  const held: (() => void)[] = [];
  const dst = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.length]);
      if (opts.hold) held.push(() => cb());
      else cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).length));
      if (opts.hold) held.push(() => cb());
      else cb();
    },
  });
  return { dst, batches, release: () => held.splice(0).forEach((f) => f()) };
}

test('chunks pushed in one tick are written as one writev; later ticks get their own', async () => {
  const src = new PassThrough();
  const { dst, batches } = recorder();
  relay(src, dst);
  src.write(Buffer.alloc(4));
  src.write(Buffer.alloc(16384));
  src.write(Buffer.alloc(4));
  await new Promise((r) => setImmediate(r));
  src.write(Buffer.alloc(100));
  src.end();
  await once(dst, 'finish');
  assert.deepEqual(batches, [[4, 16384, 4], [100]]);
});

test('a destination that does not drain pauses the source past the high-water mark, and resumes it', async () => {
  const src = new PassThrough({ highWaterMark: 1024 });
  const { dst, release } = recorder({ hold: true });
  relay(src, dst, { highWaterMark: 64 * 1024 });
  const chunk = Buffer.alloc(16 * 1024);
  for (let i = 0; i < 8; i++) src.write(chunk);
  await new Promise((r) => setImmediate(r));
  assert.ok(src.isPaused(), 'source paused');
  assert.ok(dst.writableLength > 64 * 1024 && dst.writableLength <= 8 * 16 * 1024);
  release();
  await new Promise((r) => setImmediate(r));
  assert.ok(!src.isPaused(), 'source resumed once drained');
});

test('32 MiB through a TCP relay arrive whole, in order, and ended', async (t) => {
  const data = randomBytes(32 * 1024 * 1024);
  const sink = createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash('sha256');
    let n = 0;
    s.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  // Half-open everywhere: the request's end travels on while the reply comes back.
  const front = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: (sink.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    relay(client, upstream);
    relay(upstream, client);
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  t.after(() => {
    front.close();
    sink.close();
  });
  const c: Socket = connect((front.address() as AddressInfo).port, '127.0.0.1');
  c.end(data);
  let reply = '';
  c.on('data', (d: Buffer) => (reply += d.toString()));
  await once(c, 'end');
  assert.equal(reply, `${data.length} ${createHash('sha256').update(data).digest('hex')}`);
});
