// Header blocks with the SPDY/3 dictionary: one zlib context per direction for the whole connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants, createDeflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';
import {
  HeaderCompressor,
  HeaderDecompressor,
  MAX_HEADER_BLOCK_SIZE,
  decodeHeaderBlock,
  encodeHeaderBlock,
} from './headers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('uncompressed block layout: count, then length-prefixed names and values', () => {
  const block = encodeHeaderBlock({ streamtype: 'error' });
  assert.deepEqual(block, hex('00000001 0000000a 73747265616d74797065 00000005 6572726f72'));
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'error' });
});

test('compressed blocks match the captures: first 78 bb e3 c6 a7 c2 …, later empty sets 02 01 00 00 00 00 ff ff', async () => {
  const c = new HeaderCompressor();
  const first = await c.compress({});
  assert.equal(first.subarray(0, 6).toString('hex'), '78bbe3c6a7c2');
  assert.equal(first.subarray(-4).toString('hex'), '0000ffff');
  assert.equal((await c.compress({})).toString('hex'), '020100000000ffff');
  c.close();
});

test('round trip over one context, many blocks in order (port-forward opens thousands of streams)', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const sent = Array.from({ length: 500 }, (_, i) => ({
    streamtype: i % 2 ? 'data' : 'error',
    port: String(8000 + (i % 7)),
    requestid: String(i >> 1),
  }));
  const blocks = await Promise.all(sent.map((h) => c.compress(h)));
  // Inflating must keep the same order and context: later blocks reference earlier ones.
  const got = await Promise.all(blocks.map((b) => d.decompress(b)));
  assert.deepEqual(got, sent);
  assert.ok(blocks[10]!.length < 16, `block 10 is ${blocks[10]!.length} bytes: the context is shared`);
  c.close();
  d.close();
});

test('inflates what Go writes: BestCompression with the dictionary (78 f9 …), sync-flushed per block', async () => {
  const go = createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const out: Buffer[] = [];
  go.on('data', (b: Buffer) => out.push(b));
  const goBlock = async (h: Record<string, string>): Promise<Buffer> => {
    go.write(encodeHeaderBlock(h));
    await new Promise<void>((r) => go.flush(constants.Z_SYNC_FLUSH, () => r()));
    return Buffer.concat(out.splice(0));
  };
  const d = new HeaderDecompressor();
  const b1 = await goBlock({ streamtype: 'error' });
  assert.equal(b1.subarray(0, 6).toString('hex'), '78f9e3c6a7c2');
  assert.deepEqual(await d.decompress(b1), { streamtype: 'error' });
  assert.deepEqual(await d.decompress(await goBlock({ streamtype: 'stdin' })), { streamtype: 'stdin' });
  go.close();
  d.close();
});

test('inflates the stored-block encoding (zlib header without FDICT)', async () => {
  const d = new HeaderDecompressor();
  assert.deepEqual(await d.decompress(hex('7801 000400fbff 00000000 000000ffff')), {});
  d.close();
});

test('garbage, a bad header block or an inflate bomb rejects with SpdyProtocolError and poisons the context', async () => {
  const d = new HeaderDecompressor();
  await assert.rejects(d.decompress(Buffer.from('not zlib at all')), SpdyProtocolError);
  await assert.rejects(d.decompress(hex('7801 000400fbff 00000000 000000ffff')), SpdyProtocolError);

  const c = new HeaderCompressor();
  const d2 = new HeaderDecompressor();
  const huge = { big: 'a'.repeat(MAX_HEADER_BLOCK_SIZE + 10) };
  await assert.rejects(d2.decompress(await c.compress(huge)), /larger than/);

  assert.throws(() => decodeHeaderBlock(hex('00000002 00000001 61 00000000')), SpdyProtocolError);
  assert.throws(() => decodeHeaderBlock(hex('00000001 00000000 00000000')), /empty header name/);
  assert.throws(
    () => decodeHeaderBlock(hex('00000002 00000001 61 00000000 00000001 61 00000000')),
    /duplicate header a/
  );
  c.close();
});
