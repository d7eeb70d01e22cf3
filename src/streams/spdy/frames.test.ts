// Golden frame vectors: the bytes kubectl and the real kubelet put on the wire (streaming.md §4.2–§4.4 captures).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { Flag, RstStatus, SpdyProtocolError, decodeFrame, encodeFrame, frameLength, type Frame } from './frames.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('the SPDY/3 dictionary is 1423 bytes with the DICTID kubectl sends (e3c6a7c2)', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  // zlib's header carries adler32(dictionary) after the 2 header bytes when FDICT is set.
  const z = deflateSync(Buffer.from('x'), { dictionary: SPDY3_DICTIONARY });
  assert.equal(z.subarray(2, 6).toString('hex'), 'e3c6a7c2');
});

const vectors: [string, Frame, string][] = [
  ['PING id 1 (kubectl every 5 s)', { type: 'ping', id: 1 }, '80030006 00000004 00000001'],
  [
    'GOAWAY last 0 OK (kubectl teardown)',
    { type: 'goaway', lastGoodStreamId: 0, status: 0 },
    '80030007 00000008 00000000 00000000',
  ],
  [
    'RST_STREAM CANCEL on stream 1',
    { type: 'rst_stream', streamId: 1, status: RstStatus.Cancel },
    '80030003 00000008 00000001 00000005',
  ],
  [
    'empty DATA with FIN (stdin EOF)',
    { type: 'data', streamId: 3, flags: Flag.Fin, data: Buffer.alloc(0) },
    '00000003 01000000',
  ],
  [
    'DATA "line1\\n" on stdin',
    { type: 'data', streamId: 3, flags: 0, data: Buffer.from('line1\n') },
    '00000003 00000006 6c696e65310a',
  ],
  ['WINDOW_UPDATE', { type: 'window_update', streamId: 5, delta: 65536 }, '80030009 00000008 00000005 00010000'],
  [
    'SETTINGS INITIAL_WINDOW_SIZE',
    { type: 'settings', flags: 0, settings: [{ id: 7, flags: 0, value: 262144 }] },
    '80030004 0000000c 00000001 00000007 00040000',
  ],
  [
    // The uncompressed SYN_REPLY the throwaway fake sent kubectl: zlib header without FDICT, one stored block
    // holding an empty header set, then the sync-flush marker.
    'SYN_REPLY with a stored-block empty header set',
    { type: 'syn_reply', streamId: 1, flags: 0, headerBlock: hex('7801 000400fbff 00000000 000000ffff') },
    '80030002 00000014 00000001 7801000400fbff00000000000000ffff',
  ],
  [
    'SYN_STREAM as kubectl sends it (pri 0, assoc 0, flags 0)',
    {
      type: 'syn_stream',
      streamId: 1,
      associatedId: 0,
      priority: 0,
      slot: 0,
      flags: 0,
      headerBlock: hex('78f9e3c6a7c2'),
    },
    '80030001 00000010 00000001 00000000 0000 78f9e3c6a7c2',
  ],
];

for (const [name, frame, bytes] of vectors) {
  test(`golden frame: ${name}`, () => {
    const wire = hex(bytes);
    assert.deepEqual(encodeFrame(frame), wire);
    assert.equal(frameLength(wire), wire.length);
    assert.deepEqual(decodeFrame(wire), frame);
  });
}

test('frameLength waits for a whole header', () => {
  assert.equal(frameLength(hex('800300')), undefined);
  assert.equal(frameLength(hex('80030006 00000004')), 12);
});

test('unknown control types decode as unknown (ignored, as the spec says)', () => {
  assert.deepEqual(decodeFrame(hex('80030005 00000000')), { type: 'unknown', frameType: 5, flags: 0 });
});

const malformed: [string, string][] = [
  ['SPDY/2', '80020006 00000004 00000001'],
  ['PING of 3 bytes', '80030006 00000003 000001'],
  ['RST_STREAM of 4 bytes', '80030003 00000004 00000001'],
  ['RST_STREAM for stream 0', '80030003 00000008 00000000 00000005'],
  ['SYN_STREAM shorter than its fixed part', '80030001 00000004 00000001'],
  ['SYN_STREAM for stream 0', '80030001 0000000a 00000000 00000000 0000'],
  ['DATA for stream 0', '00000000 00000001 61'],
  ['SETTINGS with a wrong count', '80030004 0000000c 00000002 00000007 00040000'],
  ['WINDOW_UPDATE with delta 0', '80030009 00000008 00000001 00000000'],
  ['GOAWAY of 4 bytes', '80030007 00000004 00000000'],
];

for (const [name, bytes] of malformed) {
  test(`malformed frame is a SpdyProtocolError: ${name}`, () => {
    assert.throws(() => decodeFrame(hex(bytes)), SpdyProtocolError);
  });
}
