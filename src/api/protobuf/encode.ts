// An object's JSON form → protobuf message bytes, written the way Go's generated marshallers write them:
// ascending field numbers, every non-pointer field even when zero, map entries sorted by key, lists unpacked.
import { ProtobufError } from './errors.js';
import { messageDef } from './schema/index.js';
import { isScalarType, maxDepth, zeroScalar } from './schema/types.js';
import type { FieldDef, MessageDef, ScalarType } from './schema/types.js';
import { isInt32, wellKnownTypes } from './well-known.js';
import { ProtoWriter } from './wire.js';

function invalid(path: string, message: string): ProtobufError {
  return new ProtobufError('InvalidObject', `${path || 'object'}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function writeScalar(w: ProtoWriter, number: number, type: ScalarType, value: unknown, path: string): void {
  const wrongType = (): ProtobufError => invalid(path, `expected ${type}, got ${JSON.stringify(value)}`);
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw wrongType();
      return w.string(number, value);
    case 'bytes':
      if (typeof value !== 'string' || !base64.test(value)) throw wrongType();
      return w.bytes(number, Buffer.from(value, 'base64'));
    case 'bool':
      if (typeof value !== 'boolean') throw wrongType();
      return w.varint(number, value);
    case 'int32':
      if (!isInt32(value)) throw wrongType();
      return w.varint(number, value);
    case 'int64':
      if (!Number.isSafeInteger(value)) throw wrongType();
      return w.varint(number, value as number);
  }
}

function messageBytes(type: string, value: unknown, depth: number, path: string, inline = false): Uint8Array {
  const wellKnown = wellKnownTypes.get(type);
  if (wellKnown) return wellKnown.encode(value, path);
  const def = messageDef(type);
  if (!def) throw new ProtobufError('UnknownKind', `no protobuf schema for message ${type}`);
  if (value !== undefined && !isPlainObject(value))
    throw invalid(path, `expected an object, got ${JSON.stringify(value)}`);
  return encodeMessage(def, value ?? {}, depth + 1, path, inline);
}

function writeValue(w: ProtoWriter, number: number, type: string, value: unknown, depth: number, path: string): void {
  if (isScalarType(type)) writeScalar(w, number, type, value, path);
  else w.bytes(number, messageBytes(type, value, depth, path));
}

function writeField(w: ProtoWriter, field: FieldDef, obj: Record<string, unknown>, depth: number, path: string): void {
  const { number, type } = field;
  if (field.jsonName === '') return w.bytes(number, messageBytes(type, obj, depth, path, true));
  // JSON null is Go's nil: kubectl's own JSON bodies carry `creationTimestamp: null`.
  const value = obj[field.jsonName] ?? undefined;
  if (field.map) {
    if (value === undefined) return;
    if (!isPlainObject(value)) throw invalid(path, `expected a map, got ${JSON.stringify(value)}`);
    for (const key of Object.keys(value).sort()) {
      const entry = new ProtoWriter();
      entry.string(1, key);
      writeValue(entry, 2, type, value[key] ?? undefined, depth, `${path}[${JSON.stringify(key)}]`);
      w.bytes(number, entry.finish());
    }
    return;
  }
  if (field.repeated) {
    if (value === undefined) return;
    if (!Array.isArray(value)) throw invalid(path, `expected a list, got ${JSON.stringify(value)}`);
    value.forEach((item: unknown, i) => writeValue(w, number, type, item, depth, `${path}[${i}]`));
    return;
  }
  if (value === undefined && (field.presence === 'pointer' || type === 'bytes')) return;
  if (isScalarType(type)) writeScalar(w, number, type, value ?? zeroScalar(type), path);
  else w.bytes(number, messageBytes(type, value, depth, path));
}

const jsonNameCache = new WeakMap<MessageDef, ReadonlySet<string>>();

/** The JSON names a message accepts, its inlined embedded structs' included. */
function jsonNames(def: MessageDef): ReadonlySet<string> {
  let names = jsonNameCache.get(def);
  if (!names) {
    names = new Set(
      def.fields.flatMap((field) => {
        const inline = field.jsonName === '' ? messageDef(field.type) : undefined;
        return inline ? [...jsonNames(inline)] : [field.jsonName];
      })
    );
    jsonNameCache.set(def, names);
  }
  return names;
}

/** `inline`: `obj` is the parent's object, whose other keys belong to the parent. */
export function encodeMessage(
  def: MessageDef,
  obj: Record<string, unknown>,
  depth: number,
  path: string,
  inline = false
): Uint8Array {
  if (depth > maxDepth) throw invalid(path, `nests deeper than ${maxDepth}`);
  if (!inline) {
    // Refuse what the table does not know rather than drop it: a silently lost field is worse than an error.
    const known = jsonNames(def);
    const unknown = Object.keys(obj).find((key) => !known.has(key) && obj[key] !== undefined);
    if (unknown !== undefined) throw invalid(path, `unknown field ${JSON.stringify(unknown)} for ${def.name}`);
  }
  const w = new ProtoWriter();
  for (const field of def.wireOrder) {
    const at = field.jsonName === '' ? path : path ? `${path}.${field.jsonName}` : field.jsonName;
    writeField(w, field, obj, depth, at);
  }
  return w.finish();
}
