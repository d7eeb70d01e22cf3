// Protobuf message bytes → the object's JSON form, as Go's encoding/json would print the decoded struct.
import { ProtobufError } from './errors.js';
import { messageDef } from './schema/index.js';
import { isScalarType, maxDepth, zeroScalar } from './schema/types.js';
import type { FieldDef, MessageDef, ScalarType } from './schema/types.js';
import { wellKnownTypes } from './well-known.js';
import { readFields, readPackedVarints, wireLen, wireVarint } from './wire.js';
import type { WireField } from './wire.js';

const utf8 = new TextDecoder();

function malformed(where: string, message: string): ProtobufError {
  return new ProtobufError('Malformed', `malformed protobuf at ${where}: ${message}`);
}

function resolve(name: string): MessageDef {
  const def = messageDef(name);
  if (!def) throw new ProtobufError('UnknownKind', `no protobuf schema for message ${name}`);
  return def;
}

function varintToJSON(type: ScalarType, value: bigint, where: string): boolean | number {
  switch (type) {
    case 'bool':
      return value !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, value));
    default: {
      const n = BigInt.asIntN(64, value);
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw malformed(where, `int64 ${n} does not fit a JSON number exactly`);
      }
      return Number(n);
    }
  }
}

function scalarToJSON(type: ScalarType, f: WireField, where: string): unknown {
  if (type === 'string' || type === 'bytes') {
    if (f.wireType !== wireLen) throw malformed(where, `expected a length-delimited ${type}`);
    return type === 'string' ? utf8.decode(f.value) : Buffer.from(f.value).toString('base64');
  }
  if (f.wireType !== wireVarint) throw malformed(where, `expected a varint ${type}`);
  return varintToJSON(type, f.value, where);
}

function messageToJSON(type: string, bytes: Uint8Array, depth: number, where: string): unknown {
  const wellKnown = wellKnownTypes.get(type);
  if (wellKnown) return wellKnown.decode(bytes);
  return decodeMessage(resolve(type), bytes, depth + 1, where);
}

function lengthDelimited(f: WireField, where: string): Uint8Array {
  if (f.wireType !== wireLen) throw malformed(where, 'expected a length-delimited message');
  return f.value;
}

/** Occurrences of a non-repeated message field merge, which is what concatenating their bytes means in protobuf. */
function merged(occurrences: readonly WireField[], where: string): Uint8Array {
  const parts = occurrences.map((f) => lengthDelimited(f, where));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function isZeroScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function decodeRepeated(field: FieldDef, occurrences: readonly WireField[], depth: number, where: string): unknown[] {
  const { type } = field;
  const items: unknown[] = [];
  occurrences.forEach((f, i) => {
    const at = `${where}[${i}]`;
    if (!isScalarType(type)) items.push(messageToJSON(type, lengthDelimited(f, at), depth, at));
    // Numeric and bool lists may come packed (proto3 style) or one tag per element (Go's proto2 marshaller).
    else if (f.wireType === wireLen && type !== 'string' && type !== 'bytes') {
      for (const v of readPackedVarints(f.value)) items.push(varintToJSON(type, v, at));
    } else items.push(scalarToJSON(type, f, at));
  });
  return items;
}

function decodeMap(
  field: FieldDef,
  occurrences: readonly WireField[],
  depth: number,
  where: string
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of occurrences) {
    let key = '';
    let value: WireField | undefined;
    for (const f of readFields(lengthDelimited(entry, where))) {
      if (f.number === 1) key = scalarToJSON('string', f, `${where} key`) as string;
      else if (f.number === 2) value = f;
    }
    const at = `${where}[${JSON.stringify(key)}]`;
    const json = isScalarType(field.type)
      ? value
        ? scalarToJSON(field.type, value, at)
        : zeroScalar(field.type)
      : messageToJSON(field.type, value ? lengthDelimited(value, at) : new Uint8Array(), depth, at);
    // Keys come from the client: define them, so that a `__proto__` key is data, as JSON.parse makes it.
    Object.defineProperty(out, key, { value: json, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Writes one field's JSON into `out`, following the presence rules described in ./schema/types.ts. */
function decodeField(
  field: FieldDef,
  occurrences: readonly WireField[],
  out: Record<string, unknown>,
  depth: number,
  where: string
): void {
  const { jsonName, type, presence } = field;
  const present = occurrences.length > 0;
  if (field.map) {
    if (present) out[jsonName] = decodeMap(field, occurrences, depth, where);
    return;
  }
  if (field.repeated) {
    const items = decodeRepeated(field, occurrences, depth, where);
    if (items.length > 0) out[jsonName] = items;
    return;
  }
  if (isScalarType(type)) {
    const value = present ? scalarToJSON(type, occurrences.at(-1)!, where) : undefined;
    if (presence === 'always') out[jsonName] = value ?? zeroScalar(type);
    // bytes are Go slices: marshalled only when non-nil, so being on the wire is what matters.
    else if (value !== undefined && (presence === 'pointer' || type === 'bytes' || !isZeroScalar(value)))
      out[jsonName] = value;
    return;
  }
  const wellKnown = wellKnownTypes.get(type);
  if (presence === 'pointer' && !present) return;
  const value = messageToJSON(type, present ? merged(occurrences, where) : new Uint8Array(), depth, where);
  if (jsonName === '') Object.assign(out, value);
  else if (!wellKnown || presence === 'pointer') {
    if (value !== undefined) out[jsonName] = value;
  } else if (presence === 'always') {
    if ((value ?? wellKnown.zero) !== undefined) out[jsonName] = value ?? wellKnown.zero;
  } else if (value !== undefined && !wellKnown.isZero(value)) out[jsonName] = value;
}

export function decodeMessage(
  def: MessageDef,
  bytes: Uint8Array,
  depth: number,
  where: string
): Record<string, unknown> {
  if (depth > maxDepth) throw malformed(where, `messages nest deeper than ${maxDepth}`);
  const byNumber = new Map<number, WireField[]>();
  for (const f of readFields(bytes)) {
    // Unknown fields are skipped, as in every protobuf decoder: they are how newer clients talk to older servers.
    if (!def.byNumber.has(f.number)) continue;
    const list = byNumber.get(f.number);
    if (list) list.push(f);
    else byNumber.set(f.number, [f]);
  }
  const out: Record<string, unknown> = {};
  for (const field of def.fields) {
    const at = field.jsonName === '' ? where : where ? `${where}.${field.jsonName}` : field.jsonName;
    decodeField(field, byNumber.get(field.number) ?? [], out, depth, at);
  }
  return out;
}
