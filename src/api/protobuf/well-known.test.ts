import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufError } from './errors.js';
import { formatGoDuration, parseGoDuration, wellKnownTypes } from './well-known.js';
import type { WellKnownType } from './well-known.js';

function codec(name: string): WellKnownType {
  const type = wellKnownTypes.get(name);
  assert.ok(type, name);
  return type;
}

const roundTrip = (name: string, value: unknown): unknown => codec(name).decode(codec(name).encode(value, 'x'));

describe('meta/v1 Time', () => {
  const cases: Array<[input: string, json: string]> = [
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z'],
    ['2024-01-02T05:04:05+02:00', '2024-01-02T03:04:05Z'],
    ['2024-01-01T23:04:05-04:00', '2024-01-02T03:04:05Z'],
    ['2024-01-02t03:04:05.999999999z', '2024-01-02T03:04:05Z'], // Go keeps seconds only
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z'], // the Unix epoch is not Go's zero time
    ['1960-06-01T00:00:00Z', '1960-06-01T00:00:00Z'],
    ['0001-01-01T00:00:01Z', '0001-01-01T00:00:01Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59Z'],
  ];
  for (const [input, json] of cases) it(`${input} → ${json}`, () => assert.equal(roundTrip('meta.Time', input), json));

  it('the zero time is an empty message', () => {
    assert.equal(codec('meta.Time').encode(undefined, 'x').length, 0);
    assert.equal(codec('meta.Time').encode('0001-01-01T00:00:00Z', 'x').length, 0);
    assert.equal(codec('meta.Time').decode(new Uint8Array()), undefined);
  });

  for (const bad of [
    '2024-02-30T00:00:00Z',
    '2024-01-02 03:04:05Z',
    '2024-01-02T24:00:00Z',
    '2024-01-02T03:04:05',
    '',
    1704164645,
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => codec('meta.Time').encode(bad, 'metadata.creationTimestamp'),
        (err) => err instanceof ProtobufError && err.code === 'InvalidObject'
      );
    });
  }
});

describe('meta/v1 MicroTime', () => {
  const cases: Array<[input: string, json: string]> = [
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000000Z'],
    ['2024-01-02T03:04:05.1Z', '2024-01-02T03:04:05.100000Z'],
    ['2024-01-02T03:04:05.123456789Z', '2024-01-02T03:04:05.123456Z'],
    ['2024-01-02T04:04:05.000001+01:00', '2024-01-02T03:04:05.000001Z'],
  ];
  for (const [input, json] of cases)
    it(`${input} → ${json}`, () => assert.equal(roundTrip('meta.MicroTime', input), json));
});

describe('meta/v1 Duration', () => {
  const cases: Array<[nanoseconds: bigint, text: string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_500n, '1.5µs'],
    [1_500_000n, '1.5ms'],
    [1_000_000_000n, '1s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [3_723_500_000_000n, '1h2m3.5s'],
    [-2_000_000_000n, '-2s'],
  ];
  for (const [nanoseconds, text] of cases) {
    it(`${nanoseconds}ns ↔ ${text}`, () => {
      assert.equal(formatGoDuration(nanoseconds), text);
      assert.equal(parseGoDuration(text), nanoseconds);
      assert.equal(roundTrip('meta.Duration', text), text);
    });
  }
  for (const [text, nanoseconds] of [
    ['90m', 5_400_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['100us', 100_000n],
    ['0', 0n],
    ['.5s', 500_000_000n],
  ] as const) {
    it(`parses ${text}`, () => assert.equal(parseGoDuration(text), nanoseconds));
  }
  for (const bad of ['', '1', 'h', '1d', '1.s.5', '-'])
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseGoDuration(bad), undefined));
});

describe('IntOrString, Quantity, FieldsV1, ExtraValue', () => {
  const cases: Array<[type: string, value: unknown, json: unknown]> = [
    ['intstr.IntOrString', 8080, 8080],
    ['intstr.IntOrString', -1, -1],
    ['intstr.IntOrString', 'http', 'http'],
    ['intstr.IntOrString', '', ''],
    ['resource.Quantity', '500m', '500m'],
    ['resource.Quantity', 2, '2'], // Go's Quantity also reads bare JSON numbers
    ['meta.FieldsV1', { 'f:spec': { 'f:replicas': {} } }, { 'f:spec': { 'f:replicas': {} } }],
    ['runtime.RawExtension', { apiVersion: 'v1', kind: 'Pod' }, { apiVersion: 'v1', kind: 'Pod' }],
    ['authentication.ExtraValue', ['a', 'b'], ['a', 'b']],
    ['authentication.ExtraValue', [], []],
  ];
  for (const [type, value, json] of cases)
    it(`${type} ${JSON.stringify(value)}`, () => assert.deepEqual(roundTrip(type, value), json));

  for (const [type, bad] of [
    ['intstr.IntOrString', 2 ** 31],
    ['intstr.IntOrString', 1.5],
    ['resource.Quantity', true],
    ['authentication.ExtraValue', [1]],
  ] as const) {
    it(`${type} rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => codec(type).encode(bad, 'x'),
        (err) => err instanceof ProtobufError && err.code === 'InvalidObject'
      );
    });
  }

  it('FieldsV1 that is not JSON is malformed', () => {
    const bytes = Uint8Array.from([0x0a, 0x01, 0x7b]); // Raw = "{"
    assert.throws(
      () => codec('meta.FieldsV1').decode(bytes),
      (err) => err instanceof ProtobufError && err.code === 'Malformed'
    );
  });
});
