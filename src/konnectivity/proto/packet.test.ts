// Golden vectors: the bytes below were worked out by hand from client.proto (tag = field<<3 | wire type; wire type
// 0 = varint, 2 = length-delimited; int64 as a base-128 varint, least significant group first) — they are what
// upstream's Go peers put on the wire. Each packet must encode to exactly these bytes and decode back unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PacketType,
  decodePacket,
  encodePacket,
  proxyServiceDefinition,
  agentServiceDefinition,
  type Packet,
} from './packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

/** 2^63−1, the largest Go rand.Int63(): 63 one-bits = eight 0xff groups and a final 0x7f. */
const maxInt63 = 9223372036854775807n;
const maxInt63Varint = 'ff ff ff ff ff ff ff ff 7f';
/** 2^53+1, the first integer a JS number cannot hold: bit 0 → 0x81, six empty groups 0x80, bit 53 = bit 4 of group 7 → 0x10. */
const above53 = 9007199254740993n;
const above53Varint = '81 80 80 80 80 80 80 10';

const vectors: { name: string; packet: Packet; bytes: string }[] = [
  {
    // type DIAL_REQ = 0 is the proto3 default, so no `08 00`; dialRequest is field 2 → 0x12, 31 bytes.
    name: 'DIAL_REQ',
    packet: {
      type: PacketType.DIAL_REQ,
      dialRequest: { protocol: 'tcp', address: '10.0.0.5:10250', random: maxInt63 },
    },
    bytes: `12 1f  0a 03 ${ascii('tcp')}  12 0e ${ascii('10.0.0.5:10250')}  18 ${maxInt63Varint}`,
  },
  {
    // type 1 → 08 01; dialResponse field 3 → 0x1a; error empty (omitted), connectID (2) → 10, random (3) → 18.
    name: 'DIAL_RSP success',
    packet: { type: PacketType.DIAL_RSP, dialResponse: { error: '', connectID: 1n, random: above53 } },
    bytes: `08 01  1a 0b  10 01  18 ${above53Varint}`,
  },
  {
    // A failed dial: connectID 0 is omitted.
    name: 'DIAL_RSP error',
    packet: { type: PacketType.DIAL_RSP, dialResponse: { error: 'refused', connectID: 0n, random: 5n } },
    bytes: `08 01  1a 0b  0a 07 ${ascii('refused')}  18 05`,
  },
  {
    // closeRequest field 5 → 0x2a; 150 = 0x96 0x01.
    name: 'CLOSE_REQ',
    packet: { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 150n } },
    bytes: '08 02  2a 03  08 96 01',
  },
  {
    // closeResponse field 6 → 0x32; error (1) → 0a, connectID (2) → 10.
    name: 'CLOSE_RSP',
    packet: { type: PacketType.CLOSE_RSP, closeResponse: { error: 'Unknown connectID', connectID: 7n } },
    bytes: `08 03  32 15  0a 11 ${ascii('Unknown connectID')}  10 07`,
  },
  {
    // data field 4 → 0x22; connectID (1) → 08, bytes (3) → 1a; the unused error (2) is empty and omitted.
    name: 'DATA',
    packet: { type: PacketType.DATA, data: { connectID: above53, error: '', data: Buffer.from('hi') } },
    bytes: `08 04  22 0d  08 ${above53Varint}  1a 02 68 69`,
  },
  {
    // closeDial field 7 → 0x3a; random (1) → 08.
    name: 'DIAL_CLS',
    packet: { type: PacketType.DIAL_CLS, closeDial: { random: maxInt63 } },
    bytes: `08 05  3a 0a  08 ${maxInt63Varint}`,
  },
  {
    // drain field 8 → 0x42, an empty message: length 0.
    name: 'DRAIN',
    packet: { type: PacketType.DRAIN },
    bytes: '08 06  42 00',
  },
  {
    // The hubspoke extension: type 100 → 08 64; windowUpdate field 100 → tag 100<<3|2 = 802 → varint a2 06;
    // connectID (1) → 08 03, bytes (2) → 10 and 65536 as 80 80 04.
    name: 'WINDOW_UPDATE (hubspoke extension)',
    packet: { type: PacketType.WINDOW_UPDATE, windowUpdate: { connectID: 3n, bytes: 65536 } },
    bytes: '08 64  a2 06 06  08 03  10 80 80 04',
  },
];

for (const v of vectors) {
  test(`golden ${v.name}: encodes to upstream's bytes and decodes back exactly`, () => {
    assert.equal(encodePacket(v.packet).toString('hex'), hex(v.bytes).toString('hex'));
    assert.deepEqual(decodePacket(hex(v.bytes)), v.packet);
  });
}

test('64-bit IDs stay exact bigints through a round trip (no Number anywhere)', () => {
  const decoded = decodePacket(hex(`08 01  1a 0b  10 01  18 ${above53Varint}`));
  assert.equal(decoded.type, PacketType.DIAL_RSP);
  if (decoded.type !== PacketType.DIAL_RSP) return;
  assert.equal(typeof decoded.dialResponse.random, 'bigint');
  assert.equal(decoded.dialResponse.random, above53);
  assert.notEqual(decoded.dialResponse.random, BigInt(Number(above53))); // a double would have rounded it to 2^53
});

test('a packet with no type field is a DIAL_REQ; a missing payload reads as zero values (like Go getters)', () => {
  assert.deepEqual(decodePacket(Buffer.alloc(0)), {
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: '', address: '', random: 0n },
  });
  assert.deepEqual(decodePacket(hex('08 02')), { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 0n } });
});

test('unknown packet types and IDs beyond int64 are rejected, not mangled', () => {
  assert.throws(() => decodePacket(hex('08 09')), /unknown konnectivity packet type 9/);
  assert.throws(
    () => encodePacket({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: 1n << 63n } }),
    /does not fit in int64/
  );
});

test('RPC paths carry no proto package', () => {
  assert.equal(proxyServiceDefinition.Proxy.path, '/ProxyService/Proxy');
  assert.equal(agentServiceDefinition.Connect.path, '/AgentService/Connect');
});
