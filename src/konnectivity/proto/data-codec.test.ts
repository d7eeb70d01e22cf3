// The hand-written DATA codec must give protobufjs's bytes exactly (packet.test.ts pins those to Go's) and must
// hand every packet it does not fully understand back to protobufjs rather than misread it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeData, encodeData } from './data-codec.js';
import { decodePacket, encodePacket, PacketType, type Packet } from './packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const data = (connectID: bigint, bytes: Buffer, error = ''): Packet => ({
  type: PacketType.DATA,
  data: { connectID, error, data: bytes },
});
const joined = (parts: Buffer[], reserve: number): Buffer => Buffer.concat(parts).subarray(reserve);

test('DATA encodes to protobufjs bytes for edge connectIDs and payload sizes; the payload is not copied', () => {
  const ids = [0n, 1n, 127n, 128n, 16_383n, 16_384n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 63n - 1n];
  const sizes = [0, 1, 127, 128, 16_384, 65_536, 1 << 20];
  for (const id of ids)
    for (const n of sizes) {
      const payload = randomBytes(n);
      const p = data(id, payload);
      const parts = encodeData(p, 5)!;
      assert.equal(joined(parts, 5).toString('hex'), encodePacket(p).toString('hex'), `connectID ${id}, ${n} bytes`);
      if (n) assert.equal(parts[1], payload, 'the payload is the caller’s own buffer');
      assert.deepEqual(decodeData(encodePacket(p)), p);
      assert.deepEqual(decodePacket(encodePacket(p)), p);
    }
});

test('decoded payloads are views of the message', () => {
  const message = encodePacket(data(7n, Buffer.from('hello')));
  const p = decodeData(message)!;
  assert.ok(p.type === PacketType.DATA);
  assert.equal(p.data.data.buffer, message.buffer);
  assert.equal(p.data.data.toString(), 'hello');
});

test('anything but canonical DATA is left to protobufjs', () => {
  assert.equal(encodeData(data(1n, Buffer.from('x'), 'boom'), 0), undefined, 'error set');
  assert.equal(encodeData(data(-1n, Buffer.from('x')), 0), undefined, 'negative connectID');
  assert.equal(encodeData({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: 1n } }, 0), undefined);
  const notCanonical: [string, string][] = [
    ['error field', '08 04 22 05 08 01 12 01 78'],
    ['fields reversed', '08 04 22 05 1a 01 78 08 01'],
    ['unknown field', '08 04 22 05 08 01 28 01 00'],
    ['negative connectID', `08 04 22 0e 08 ${'ff '.repeat(9)}01 1a 01 78`], // a 10-byte varint
    ['length past the end', '08 04 22 09 08 01 1a 05 78'],
    ['payload length short', '08 04 22 05 08 01 1a 05 78'],
    ['CLOSE_REQ', '08 02 2a 02 08 01'],
    ['type after payload', '22 03 08 01 00 08 04'],
  ];
  for (const [name, bytes] of notCanonical) assert.equal(decodeData(hex(bytes)), undefined, name);
  // What protobufjs makes of the reversed and the errored forms is still a DATA packet: nothing is lost by the
  // fallback.
  assert.deepEqual(decodePacket(hex('08 04 22 05 1a 01 78 08 01')), data(1n, Buffer.from('x')));
  assert.deepEqual(decodePacket(hex('08 04 22 05 08 01 12 01 78')), data(1n, Buffer.alloc(0), 'x'));
});

test('random DATA round-trips through both codecs alike', () => {
  for (let i = 0; i < 2000; i++) {
    const id = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) >> BigInt(i % 63);
    const p = data(id, randomBytes(i % 300));
    const bytes = joined(encodeData(p, 0)!, 0);
    assert.deepEqual(bytes, encodePacket(p));
    assert.deepEqual(decodeData(bytes), decodePacket(bytes));
  }
});
