// DATA packets, the tunnel's bytes, by hand and without copying them. protobufjs copies every payload into the
// message it writes and converts through plain objects both ways; for DATA that was a copy of each byte per hop.
// Only the canonical form is handled here, exactly as proto3 and Go write it:
//   08 04 | 22 <len> | [08 <connectID>] [1a <len> <payload>]      (type DATA, data { connectID, data })
// Anything else (an `error` set, fields in another order, unknown fields, a negative connectID) is left to
// protobufjs (packet.ts), so what this file does not understand it never has to get right.
import { PacketType, type Packet } from './packet.js';

type DataPacket = Packet & { type: typeof PacketType.DATA };

const maxInt63 = (1n << 63n) - 1n;

function varintLength(v: number | bigint): number {
  let n = 1;
  if (typeof v === 'number') {
    while (v >= 0x80) {
      v = Math.floor(v / 0x80);
      n++;
    }
    return n;
  }
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(b: Buffer, at: number, v: number | bigint): number {
  if (typeof v === 'number') {
    while (v >= 0x80) {
      b[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[at++] = v;
    return at;
  }
  while (v >= 0x80n) {
    b[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  b[at++] = Number(v);
  return at;
}

/** A connectID as the varint writer wants it: a number while exact, a bigint above 2^53. */
const small = (id: bigint): number | bigint => (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id);

/**
 * The packet's bytes as `[head, payload]` (payload the caller's own buffer) with `reserve` free bytes at the start
 * of head for the caller's framing; undefined when this is not a canonical DATA packet.
 */
export function encodeData(p: Packet, reserve: number): Buffer[] | undefined {
  if (p.type !== PacketType.DATA || p.data.error !== '') return undefined;
  const { connectID, data } = p.data;
  if (connectID < 0n || connectID > maxInt63) return undefined;
  const id = small(connectID);
  const idBytes = connectID === 0n ? 0 : 1 + varintLength(id);
  const dataBytes = data.length === 0 ? 0 : 1 + varintLength(data.length) + data.length;
  const inner = idBytes + dataBytes;
  const head = Buffer.allocUnsafe(reserve + 3 + varintLength(inner) + idBytes + dataBytes - data.length);
  let at = reserve;
  head[at++] = 0x08; // type
  head[at++] = PacketType.DATA;
  head[at++] = 0x22; // data, field 4
  at = writeVarint(head, at, inner);
  if (idBytes) {
    head[at++] = 0x08; // connectID, field 1
    at = writeVarint(head, at, id);
  }
  if (dataBytes) {
    head[at++] = 0x1a; // data, field 3
    at = writeVarint(head, at, data.length);
  }
  return data.length ? [head, data] : [head];
}

/** A varint at `at`: [value, next offset], or undefined past the end or over 9 bytes (63 bits: a negative int64). */
function readVarint(b: Buffer, at: number): [bigint, number] | undefined {
  let v = 0n;
  for (let shift = 0n; at < b.length && shift < 63n; shift += 7n) {
    const byte = b[at++]!;
    v |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [v, at];
  }
  return undefined;
}

/** A short varint (a length) as a number, or undefined. */
function readLength(b: Buffer, at: number): [number, number] | undefined {
  let v = 0;
  for (let mul = 1; at < b.length && mul < 2 ** 35; mul *= 0x80) {
    const byte = b[at++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, at];
  }
  return undefined;
}

/** A canonical DATA packet, its payload a view of `b`; undefined for anything else. */
export function decodeData(b: Buffer): DataPacket | undefined {
  if (b.length < 3 || b[0] !== 0x08 || b[1] !== PacketType.DATA || b[2] !== 0x22) return undefined;
  const len = readLength(b, 3);
  if (!len || len[1] + len[0] !== b.length) return undefined;
  let at = len[1];
  let connectID = 0n;
  if (b[at] === 0x08) {
    const id = readVarint(b, at + 1);
    if (!id) return undefined;
    [connectID, at] = id;
  }
  let data = b.subarray(0, 0);
  if (at < b.length) {
    if (b[at] !== 0x1a) return undefined;
    const n = readLength(b, at + 1);
    if (!n || n[1] + n[0] !== b.length) return undefined;
    data = b.subarray(n[1]);
    at = b.length;
  }
  return { type: PacketType.DATA, data: { connectID, error: '', data } };
}
