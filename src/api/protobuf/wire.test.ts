import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufError } from './errors.js';
import { ProtoWriter, readFields, readPackedVarints } from './wire.js';

describe('varints', () => {
  const cases: Array<[value: bigint | number, hex: string]> = [
    [0, '0800'],
    [1, '0801'],
    [150, '089601'],
    [2 ** 32, '088080808010'],
    [-1, '08ffffffffffffffffff01'], // negative int32/int64: ten bytes of two's complement, as Go writes them
    [2n ** 64n - 1n, '08ffffffffffffffffff01'],
  ];
  for (const [value, hex] of cases) {
    it(`${value} ↔ ${hex}`, () => {
      const w = new ProtoWriter();
      w.varint(1, value);
      const bytes = w.finish();
      assert.equal(bytes.toString('hex'), hex);
      assert.deepEqual([...readFields(bytes)], [{ number: 1, wireType: 0, value: BigInt.asUintN(64, BigInt(value)) }]);
    });
  }

  it('reads packed varints', () =>
    assert.deepEqual(readPackedVarints(Uint8Array.from([1, 0x96, 0x01, 0])), [1n, 150n, 0n]));
});

describe('fields', () => {
  it('writes and reads length-delimited, fixed-width and large field numbers', () => {
    const w = new ProtoWriter();
    w.string(2, 'héllo');
    w.bytes(2 ** 29 - 1, Uint8Array.from([1, 2]));
    const bytes = Buffer.concat([w.finish(), Uint8Array.from([0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4])]);
    const fields = [...readFields(bytes)].map((f) => [
      f.number,
      f.wireType,
      Buffer.from(f.value as Uint8Array).toString('hex'),
    ]);
    assert.deepEqual(fields, [
      [2, 2, Buffer.from('héllo').toString('hex')],
      [2 ** 29 - 1, 2, '0102'],
      [3, 1, '0102030405060708'],
      [4, 5, '01020304'],
    ]);
  });

  const bad: Array<[name: string, bytes: number[], message: RegExp]> = [
    ['truncated tag', [0x80], /truncated varint/],
    ['truncated varint value', [0x08, 0x80], /truncated varint/],
    ['varint over 64 bits', [0x08, ...Array<number>(9).fill(0xff), 0x02], /overflows 64 bits/],
    ['length past the end', [0x0a, 0x05, 0x61], /length 5 exceeds/],
    ['huge length', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], /exceeds/],
    ['truncated fixed64', [0x09, 1, 2, 3], /truncated fixed-width/],
    ['field number 0', [0x00, 0x01], /invalid field number 0/],
    ['start group', [0x0b], /wire type 3/],
    ['end group', [0x0c], /wire type 4/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => [...readFields(Uint8Array.from(bytes))],
        (err) => err instanceof ProtobufError && err.code === 'Malformed' && message.test(err.message)
      );
    });
  }
});
