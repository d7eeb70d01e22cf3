// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): tags, varints and length-delimited
// fields. Every read is bounds-checked, since request bodies come from untrusted clients.
import { ProtobufError } from './errors.js';

export const wireVarint = 0;
export const wireFixed64 = 1;
export const wireLen = 2;
export const wireFixed32 = 5;

export type WireField =
  | { readonly number: number; readonly wireType: typeof wireVarint; readonly value: bigint }
  | {
      readonly number: number;
      readonly wireType: typeof wireLen | typeof wireFixed64 | typeof wireFixed32;
      readonly value: Uint8Array;
    };

const maxFieldNumber = 2 ** 29 - 1;

function malformed(message: string): ProtobufError {
  return new ProtobufError('Malformed', `malformed protobuf: ${message}`);
}

function readVarint(buf: Uint8Array, pos: number): [value: bigint, next: number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = buf[pos + i];
    if (byte === undefined) throw malformed('truncated varint');
    if (i === 9 && byte > 1) throw malformed('varint overflows 64 bits');
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [value, pos + i + 1];
  }
  throw malformed('varint longer than 10 bytes');
}

/** The fields of one message, in wire order. Groups (wire types 3 and 4) are rejected: proto2 Kubernetes types have none. */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number < 1 || number > maxFieldNumber) throw malformed(`invalid field number ${key >> 3n}`);
    switch (wireType) {
      case wireVarint: {
        const [value, next] = readVarint(buf, pos);
        pos = next;
        yield { number, wireType, value };
        break;
      }
      case wireLen: {
        const [length, start] = readVarint(buf, pos);
        if (length > BigInt(buf.length - start))
          throw malformed(`field ${number} length ${length} exceeds the message`);
        pos = start + Number(length);
        yield { number, wireType, value: buf.subarray(start, pos) };
        break;
      }
      case wireFixed64:
      case wireFixed32: {
        const size = wireType === wireFixed64 ? 8 : 4;
        if (pos + size > buf.length) throw malformed(`truncated fixed-width field ${number}`);
        yield { number, wireType, value: buf.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      default:
        throw malformed(`unsupported wire type ${wireType} for field ${number}`);
    }
  }
}

/** The varints of a packed repeated field. */
export function readPackedVarints(buf: Uint8Array): bigint[] {
  const values: bigint[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [value, next] = readVarint(buf, pos);
    values.push(value);
    pos = next;
  }
  return values;
}

const utf8 = new TextEncoder();

function varintBytes(value: bigint): number[] {
  // Negative int32/int64 values travel as their 64-bit two's complement, like Go's uint64(v) conversion.
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function tag(number: number, wireType: number): number[] {
  return varintBytes((BigInt(number) << 3n) | BigInt(wireType));
}

/** Builds one message; nested messages are built by their own writer and added with `bytes`. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];

  varint(number: number, value: bigint | number | boolean): void {
    const v = typeof value === 'bigint' ? value : BigInt(typeof value === 'boolean' ? Number(value) : value);
    this.chunks.push(Uint8Array.from([...tag(number, wireVarint), ...varintBytes(v)]));
  }

  bytes(number: number, value: Uint8Array): void {
    this.chunks.push(Uint8Array.from([...tag(number, wireLen), ...varintBytes(BigInt(value.length))]));
    this.chunks.push(value);
  }

  string(number: number, value: string): void {
    this.bytes(number, utf8.encode(value));
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
