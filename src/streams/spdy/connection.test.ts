// SpdyConnection over real loopback sockets: streams, pings, resets, malformed input, flow control and idling.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpdyConnection, type SpdyStream } from './connection.js';
import {
  GoAwayStatus,
  RstStatus,
  SpdyProtocolError,
  decodeFrame,
  encodeFrame,
  frameLength,
  type Frame,
} from './frames.js';
import { HeaderCompressor } from './headers.js';

async function socketPair(t: TestContext): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [serverSide] = await accepted;
  await once(client, 'connect').catch(() => undefined);
  server.close();
  t.after(() => {
    client.destroy();
    serverSide.destroy();
  });
  return [client, serverSide];
}

async function pair(
  t: TestContext,
  opts: { server?: object; client?: object } = {}
): Promise<{ client: SpdyConnection; server: SpdyConnection }> {
  const [a, b] = await socketPair(t);
  const client = new SpdyConnection(a, { isServer: false, ...opts.client });
  const server = new SpdyConnection(b, { isServer: true, ...opts.server });
  t.after(() => {
    client.destroy();
    server.destroy();
  });
  return { client, server };
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads frames a raw peer receives (decoding only the framing). */
function frameReader(sock: Socket): { frames: Frame[]; next(type: Frame['type']): Promise<Frame> } {
  const frames: Frame[] = [];
  let buf = Buffer.alloc(0);
  let waiters: (() => void)[] = [];
  sock.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    let n: number | undefined;
    while ((n = frameLength(buf)) !== undefined && buf.length >= n) {
      frames.push(decodeFrame(buf.subarray(0, n)));
      buf = buf.subarray(n);
    }
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  return {
    frames,
    async next(type) {
      for (;;) {
        const i = frames.findIndex((f) => f.type === type);
        if (i >= 0) return frames.splice(i, 1)[0]!;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

test('streams carry data both ways; FINs close them; both sides forget finished streams', async (t) => {
  const { client, server } = await pair(t);
  const seen: object[] = [];
  server.on('stream', (s) => {
    seen.push(s.headers);
    s.reply();
    s.pipe(s); // echo
  });
  const s = await client.openStream({ streamtype: 'stdout', port: '80' });
  assert.equal(s.id, 1);
  const big = Buffer.alloc(300_000, 7);
  s.end(big);
  const back = await readAll(s);
  assert.equal(back.length, big.length);
  assert.ok(back.equals(big));
  await sleep(20);
  assert.equal(client.streams.size, 0);
  assert.equal(server.streams.size, 0);
  const s2 = await client.openStream({ streamtype: 'x' });
  assert.equal(s2.id, 3, 'client stream ids are odd and increase');
  assert.deepEqual(seen, [{ streamtype: 'stdout', port: '80' }, { streamtype: 'x' }]);
});

test('PINGs are answered both ways', async (t) => {
  const { client, server } = await pair(t);
  assert.ok((await client.ping()) >= 0);
  assert.ok((await server.ping()) >= 0);
});

test('a raw peer (like kubectl) gets its PING echoed and an empty SYN_REPLY; the accepting side sends no SETTINGS', async (t) => {
  const [raw, b] = await socketPair(t);
  const server = new SpdyConnection(b, { isServer: true });
  t.after(() => server.destroy());
  server.on('stream', (s) => s.reply());
  const reader = frameReader(raw);
  raw.write(encodeFrame({ type: 'ping', id: 1 }));
  assert.deepEqual(await reader.next('ping'), { type: 'ping', id: 1 });
  const c = new HeaderCompressor();
  t.after(() => c.close());
  raw.write(
    encodeFrame({
      type: 'syn_stream',
      streamId: 1,
      associatedId: 0,
      priority: 0,
      slot: 0,
      flags: 0,
      headerBlock: await c.compress({ streamtype: 'error' }),
    })
  );
  const reply = await reader.next('syn_reply');
  assert.equal((reply as { streamId: number }).streamId, 1);
  assert.ok(!reader.frames.some((f) => f.type === 'settings' || f.type === 'window_update'));
});

test('RST_STREAM from the peer ends the stream after the data already received', async (t) => {
  const { client, server } = await pair(t);
  const got = new Promise<SpdyStream>((resolve) =>
    server.on('stream', (s) => {
      s.reply();
      resolve(s);
    })
  );
  const s = await client.openStream({ streamtype: 'data' });
  s.write('hello');
  await sleep(20);
  s.reset(RstStatus.Cancel);
  const ss = await got;
  assert.equal((await readAll(ss)).toString(), 'hello');
  assert.equal(ss.resetStatus, RstStatus.Cancel);
  ss.write('dropped, not thrown');
});

for (const [name, bytes] of [
  ['garbage', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
  ['a SPDY/2 frame', Buffer.from('80020006000000040000000180', 'hex')],
  [
    'a SYN_STREAM whose header block is not zlib',
    encodeFrame({
      type: 'syn_stream',
      streamId: 1,
      associatedId: 0,
      priority: 0,
      slot: 0,
      flags: 0,
      headerBlock: Buffer.from('nonsense'),
    }),
  ],
  ['a SYN_STREAM with the server parity', Buffer.alloc(0)],
  ['a frame larger than maxFrameSize', Buffer.from('00000001 00100000'.replace(' ', ''), 'hex')],
] as const) {
  test(`malformed input closes the connection without throwing: ${name}`, async (t) => {
    const [raw, b] = await socketPair(t);
    const server = new SpdyConnection(b, { isServer: true, maxFrameSize: 65536 });
    server.on('stream', (s) => s.reply());
    const closed = once(server, 'close') as Promise<[Error | undefined]>;
    const reader = frameReader(raw);
    if (bytes.length) raw.write(bytes);
    else {
      const c = new HeaderCompressor();
      raw.write(
        encodeFrame({
          type: 'syn_stream',
          streamId: 2,
          associatedId: 0,
          priority: 0,
          slot: 0,
          flags: 0,
          headerBlock: await c.compress({ a: 'b' }),
        })
      );
      c.close();
    }
    const [err] = await closed;
    assert.ok(err instanceof SpdyProtocolError, String(err));
    const goaway = await reader.next('goaway');
    assert.equal((goaway as { status: number }).status, GoAwayStatus.ProtocolError);
    await once(raw, 'close');
  });
}

test('flow control between two of ours: a slow reader stalls only its own stream, and buffers stay bounded', async (t) => {
  const window = 64 * 1024;
  const { client, server } = await pair(t, {
    server: { initialWindowSize: window },
    client: { initialWindowSize: window },
  });
  const accepted: SpdyStream[] = [];
  server.on('stream', (s) => {
    s.reply();
    accepted.push(s);
  });
  const slow = await client.openStream({ streamtype: 'slow' });
  const fast = await client.openStream({ streamtype: 'fast' });
  await sleep(20);
  const [slowIn, fastIn] = accepted as [SpdyStream, SpdyStream];
  slowIn.pause(); // never read
  // The slow stream's writer: write until backpressure.
  const chunk = Buffer.alloc(16 * 1024, 1);
  let slowWritten = 0;
  while (slow.write(chunk)) slowWritten += chunk.length;
  const total = 8 * 1024 * 1024;
  const fastDone = readAll(fastIn);
  for (let i = 0; i < total / chunk.length; i++) if (!fast.write(chunk)) await once(fast, 'drain');
  fast.end();
  assert.equal((await fastDone).length, total, 'the fast stream finished while the slow one was stuck');
  await sleep(50);
  assert.ok(slowIn.readableLength <= window, `slow receiver holds ${slowIn.readableLength} bytes, window ${window}`);
  assert.ok(slow.writableLength <= 2 * 64 * 1024 + chunk.length, `slow sender buffers ${slow.writableLength}`);
  assert.ok(slowWritten < 4 * 1024 * 1024);
  // Reading the slow stream lets its data through.
  slow.end();
  const rest = await readAll(slowIn);
  assert.ok(rest.length >= slowWritten);
});

test('a peer that ignores windows (like Go spdystream) is held back by pausing the socket, not by memory', async (t) => {
  const [raw, b] = await socketPair(t);
  const maxBuffered = 256 * 1024;
  const server = new SpdyConnection(b, {
    isServer: true,
    initialWindowSize: 64 * 1024,
    maxBufferedPerStream: maxBuffered,
  });
  t.after(() => server.destroy());
  const got = new Promise<SpdyStream>((resolve) =>
    server.on('stream', (s) => {
      s.reply();
      resolve(s);
    })
  );
  const c = new HeaderCompressor();
  t.after(() => c.close());
  raw.write(
    encodeFrame({
      type: 'syn_stream',
      streamId: 1,
      associatedId: 0,
      priority: 0,
      slot: 0,
      flags: 0,
      headerBlock: await c.compress({ streamtype: 'stdin' }),
    })
  );
  const stream = await got;
  stream.pause();
  const payload = Buffer.alloc(32 * 1024, 9);
  const frames = 512; // 16 MiB, far more than the socket buffers hold
  let i = 0;
  const pump = (): void => {
    while (i < frames) {
      i++;
      const last = i === frames;
      if (!raw.write(encodeFrame({ type: 'data', streamId: 1, flags: last ? 1 : 0, data: payload }))) {
        raw.once('drain', pump);
        return;
      }
    }
  };
  pump();
  await sleep(300);
  assert.ok(stream.readableLength <= maxBuffered + payload.length, `stream holds ${stream.readableLength}`);
  assert.ok(i < frames, 'the sender is held back by TCP');
  const all = await readAll(stream);
  assert.equal(all.length, frames * payload.length);
});

test('GOAWAY from the peer refuses new streams; close() ends both sides', async (t) => {
  const { client, server } = await pair(t);
  server.on('stream', (s) => s.reply());
  await client.openStream({ a: '1' }, { fin: true });
  server.goAway();
  await once(client, 'goaway');
  await assert.rejects(client.openStream({ a: '2' }), /closing/);
  const closed = once(server, 'close');
  client.close();
  await closed;
});

test('the idle timeout closes a connection with no frames either way', async (t) => {
  const { server } = await pair(t, { server: { idleTimeoutMs: 150 } });
  const [err] = (await once(server, 'close')) as [Error];
  assert.match(err.message, /idle/);
});
