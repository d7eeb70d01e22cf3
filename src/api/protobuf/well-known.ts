// Messages whose JSON form is not an object of their fields: Go gives these types their own JSON marshallers
// (metav1.Time is an RFC 3339 string, intstr.IntOrString a number or a string, resource.Quantity a string, …).
import { ProtobufError } from './errors.js';
import { ProtoWriter, readFields, wireLen, wireVarint } from './wire.js';
import type { WireField } from './wire.js';

export interface WellKnownType {
  /** The JSON form of the message bytes; undefined when they stand for "unset" (a zero Time). */
  decode(bytes: Uint8Array): unknown;
  /** The message bytes for a JSON value, written as Go writes them; `undefined` is Go's zero value. */
  encode(value: unknown, path: string): Uint8Array;
  /** Whether a JSON value is Go's zero value, which `omitempty` fields leave out. */
  isZero(value: unknown): boolean;
  /** The JSON of Go's zero value, for fields that are always in the JSON (undefined: leave the field out). */
  readonly zero: unknown;
}

function lastFields(bytes: Uint8Array): Map<number, WireField> {
  const fields = new Map<number, WireField>();
  for (const f of readFields(bytes)) fields.set(f.number, f);
  return fields;
}

function varintOf(fields: Map<number, WireField>, number: number, what: string): bigint {
  const f = fields.get(number);
  if (f === undefined) return 0n;
  if (f.wireType !== wireVarint) throw new ProtobufError('Malformed', `malformed protobuf: ${what} is not a varint`);
  return f.value;
}

function bytesOf(fields: Map<number, WireField>, number: number, what: string): Uint8Array {
  const f = fields.get(number);
  if (f === undefined) return new Uint8Array();
  if (f.wireType !== wireLen)
    throw new ProtobufError('Malformed', `malformed protobuf: ${what} is not length-delimited`);
  return f.value;
}

function invalid(path: string, expected: string, value: unknown): ProtobufError {
  return new ProtobufError('InvalidObject', `${path}: expected ${expected}, got ${JSON.stringify(value)}`);
}

const utf8 = new TextDecoder();

// RFC 3339 as Go's time.Parse reads it: any offset, any number of fractional digits.
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function parseRFC3339(value: unknown, path: string): { seconds: number; nanos: number } {
  const m = typeof value === 'string' ? rfc3339.exec(value) : null;
  if (!m) throw invalid(path, 'an RFC 3339 timestamp', value);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year); // Date.UTC maps years 0-99 onto 1900-1999
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw invalid(path, 'an RFC 3339 timestamp', value);
  }
  const offset = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60);
  return { seconds: date.getTime() / 1000 - offset, nanos: Number((m[7] ?? '').padEnd(9, '0')) };
}

function formatRFC3339(seconds: bigint, fractionDigits: number, nanos = 0): string {
  const ms = Number(seconds) * 1000;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // Go's Time.MarshalJSON refuses years outside [0, 9999].
  if (!Number.isFinite(ms) || Number.isNaN(date.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufError('Malformed', `timestamp ${seconds}s is outside the years 0-9999`);
  }
  const base = date.toISOString().slice(0, 19);
  const fraction = fractionDigits ? '.' + String(nanos).padStart(9, '0').slice(0, fractionDigits) : '';
  return `${base}${fraction}Z`;
}

/** 0001-01-01T00:00:00Z, Go's zero time.Time, which marshals as an empty message. */
const goZeroTimeSeconds = -62_135_596_800;

function timestampBytes(seconds: number, nanos: number): Uint8Array {
  if (seconds === goZeroTimeSeconds && nanos === 0) return new Uint8Array();
  const w = new ProtoWriter();
  w.varint(1, seconds);
  w.varint(2, nanos);
  return w.finish();
}

const isUnset = (value: unknown): value is undefined | null => value === undefined || value === null;

export const isInt32 = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31;

/** meta/v1 Time: seconds only; Go drops the nanoseconds both ways so that protobuf and JSON clients agree. */
const time: WellKnownType = {
  decode(bytes) {
    if (bytes.length === 0) return undefined; // Go marshals the zero Time as an empty message
    return formatRFC3339(BigInt.asIntN(64, varintOf(lastFields(bytes), 1, 'Time.seconds')), 0);
  },
  encode(value, path) {
    return isUnset(value) ? new Uint8Array() : timestampBytes(parseRFC3339(value, path).seconds, 0);
  },
  isZero: isUnset,
  zero: undefined,
};

/** meta/v1 MicroTime: like Time, with microseconds (JSON always shows six fractional digits). */
const microTime: WellKnownType = {
  decode(bytes) {
    if (bytes.length === 0) return undefined;
    const fields = lastFields(bytes);
    const nanos = Number(BigInt.asIntN(32, varintOf(fields, 2, 'MicroTime.nanos')));
    if (nanos < 0 || nanos > 999_999_999) throw new ProtobufError('Malformed', `MicroTime nanos ${nanos} out of range`);
    return formatRFC3339(BigInt.asIntN(64, varintOf(fields, 1, 'MicroTime.seconds')), 6, nanos);
  },
  encode(value, path) {
    if (isUnset(value)) return new Uint8Array();
    const { seconds, nanos } = parseRFC3339(value, path);
    return timestampBytes(seconds, nanos - (nanos % 1000));
  },
  isZero: isUnset,
  zero: undefined,
};

const durationUnits: ReadonlyArray<readonly [string, bigint]> = [
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
  ['us', 1_000n],
  ['µs', 1_000n],
  ['μs', 1_000n],
  ['ns', 1n],
];

/** Go's time.Duration.String: `1h2m3.5s`, `1.5ms`, `0s`. */
export function formatGoDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const u = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  const withFraction = (value: bigint, scale: bigint, digits: number): string => {
    const fraction = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
    return `${value / scale}${fraction ? '.' + fraction : ''}`;
  };
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${withFraction(u, 1_000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${withFraction(u, 1_000_000n, 6)}ms`;
  const hours = u / 3_600_000_000_000n;
  const minutes = (u / 60_000_000_000n) % 60n;
  const seconds = `${withFraction(u % 60_000_000_000n, 1_000_000_000n, 9)}s`;
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** Go's time.ParseDuration, to nanoseconds. */
export function parseGoDuration(text: string): bigint | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns))+$/.exec(text);
  if (!m) return text === '0' || text === '+0' || text === '-0' ? 0n : undefined;
  let total = 0n;
  for (const [, whole, frac, unit] of text.slice(m[1]!.length).matchAll(/(\d*)(?:\.(\d*))?(h|ms|m|s|us|µs|μs|ns)/g)) {
    const scale = durationUnits.find(([name]) => name === unit)![1];
    const digits = frac ?? '';
    total += BigInt(whole || '0') * scale + (BigInt(digits || '0') * scale) / 10n ** BigInt(digits.length);
  }
  if (total > 2n ** 63n - 1n) return undefined;
  return m[1] === '-' ? -total : total;
}

/** meta/v1 Duration: nanoseconds on the wire, Go's duration string in JSON. */
const duration: WellKnownType = {
  decode(bytes) {
    return formatGoDuration(BigInt.asIntN(64, varintOf(lastFields(bytes), 1, 'Duration.duration')));
  },
  encode(value, path) {
    const nanoseconds = isUnset(value) ? 0n : typeof value === 'string' ? parseGoDuration(value) : undefined;
    if (nanoseconds === undefined) throw invalid(path, 'a duration such as "1h30m"', value);
    const w = new ProtoWriter();
    w.varint(1, nanoseconds);
    return w.finish();
  },
  isZero: (value) => isUnset(value) || value === '0s',
  zero: '0s',
};

/** util/intstr IntOrString: `{type, intVal, strVal}` on the wire, a bare number or string in JSON. */
const intOrString: WellKnownType = {
  decode(bytes) {
    const fields = lastFields(bytes);
    if (varintOf(fields, 1, 'IntOrString.type') === 1n) return utf8.decode(bytesOf(fields, 3, 'IntOrString.strVal'));
    return Number(BigInt.asIntN(32, varintOf(fields, 2, 'IntOrString.intVal')));
  },
  encode(value, path) {
    const w = new ProtoWriter();
    if (typeof value === 'string') {
      w.varint(1, 1);
      w.varint(2, 0);
      w.string(3, value);
    } else if (isUnset(value) || isInt32(value)) {
      w.varint(1, 0);
      w.varint(2, (value as number | undefined) ?? 0);
      w.string(3, '');
    } else {
      throw invalid(path, 'an int32 or a string', value);
    }
    return w.finish();
  },
  isZero: (value) => isUnset(value) || value === 0,
  zero: 0,
};

/** api/resource Quantity: its canonical string in both forms. */
const quantity: WellKnownType = {
  decode(bytes) {
    return utf8.decode(bytesOf(lastFields(bytes), 1, 'Quantity.string'));
  },
  encode(value, path) {
    // Go's Quantity.UnmarshalJSON also takes bare numbers (`cpu: 1`).
    if (!isUnset(value) && typeof value !== 'string' && typeof value !== 'number')
      throw invalid(path, 'a quantity', value);
    const w = new ProtoWriter();
    w.string(1, isUnset(value) ? '0' : String(value));
    return w.finish();
  },
  isZero: (value) => isUnset(value) || value === '0',
  zero: '0',
};

function rawJSON(what: string): WellKnownType {
  return {
    decode(bytes) {
      const raw = bytesOf(lastFields(bytes), 1, `${what}.raw`);
      if (raw.length === 0) return undefined;
      try {
        return JSON.parse(utf8.decode(raw)) as unknown;
      } catch (err) {
        throw new ProtobufError('Malformed', `${what} does not hold JSON`, { cause: err });
      }
    },
    encode(value) {
      const w = new ProtoWriter();
      if (!isUnset(value)) w.bytes(1, Buffer.from(JSON.stringify(value)));
      return w.finish();
    },
    isZero: isUnset,
    zero: undefined,
  };
}

/** Go `[]string` types given a message wrapper so they can be map values (`map<string, ExtraValue>`). */
const stringList: WellKnownType = {
  decode(bytes) {
    const items: string[] = [];
    for (const f of readFields(bytes)) {
      if (f.number !== 1) continue;
      if (f.wireType !== wireLen) throw new ProtobufError('Malformed', 'malformed protobuf: list item is not a string');
      items.push(utf8.decode(f.value));
    }
    return items;
  },
  encode(value, path) {
    const items = isUnset(value) ? [] : value;
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string'))
      throw invalid(path, 'a list of strings', value);
    const w = new ProtoWriter();
    for (const item of items) w.string(1, item);
    return w.finish();
  },
  isZero: (value) => isUnset(value) || (Array.isArray(value) && value.length === 0),
  zero: [],
};

export const wellKnownTypes: ReadonlyMap<string, WellKnownType> = new Map([
  ['meta.Time', time],
  ['meta.MicroTime', microTime],
  ['meta.Duration', duration],
  ['meta.FieldsV1', rawJSON('FieldsV1')],
  ['runtime.RawExtension', rawJSON('RawExtension')],
  ['intstr.IntOrString', intOrString],
  ['resource.Quantity', quantity],
  ['authentication.ExtraValue', stringList],
  ['authentication.AttestationValue', stringList],
  ['authorization.ExtraValue', stringList],
  ['certificates.ExtraValue', stringList],
]);
