// The Kubernetes protobuf envelope (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the 4-byte magic
// `k8s\0`, then a runtime.Unknown {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
// whose raw bytes are the object's own message (which has no TypeMeta of its own).
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { ProtobufError } from './errors.js';
import { messageForKind } from './schema/index.js';
import { ProtoWriter, readFields, wireLen } from './wire.js';

export const protobufContentType = 'application/vnd.kubernetes.protobuf';

const magic = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);

/** Whether a Content-Type header names the Kubernetes protobuf encoding (parameters and case ignored). */
export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === protobufContentType;
}

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  /** The object as the JSON API shows it, apiVersion and kind included. */
  object: Record<string, unknown>;
}

const utf8 = new TextDecoder();

/** The envelope's messages have only string and bytes fields. */
function lengthDelimitedFields(bytes: Uint8Array, what: string): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>();
  for (const f of readFields(bytes)) {
    if (f.wireType !== wireLen)
      throw new ProtobufError('Malformed', `malformed protobuf: ${what} field ${f.number} is not length-delimited`);
    fields.set(f.number, f.value);
  }
  return fields;
}

function text(value: Uint8Array | undefined): string {
  return value === undefined ? '' : utf8.decode(value);
}

export function decodeKubernetesProtobuf(body: Uint8Array): DecodedObject {
  if (body.length < magic.length || !magic.every((b, i) => body[i] === b)) {
    throw new ProtobufError(
      'BadMagic',
      'the body is not Kubernetes protobuf: it does not start with the "k8s\\x00" prefix'
    );
  }
  const unknown = lengthDelimitedFields(body.subarray(magic.length), 'runtime.Unknown');
  const typeMeta = lengthDelimitedFields(unknown.get(1) ?? new Uint8Array(), 'runtime.TypeMeta');
  const apiVersion = text(typeMeta.get(1));
  const kind = text(typeMeta.get(2));
  const raw = unknown.get(2) ?? new Uint8Array();
  const contentEncoding = text(unknown.get(3));
  const contentType = text(unknown.get(4));
  if (contentEncoding !== '')
    throw new ProtobufError(
      'Malformed',
      `unsupported content encoding ${JSON.stringify(contentEncoding)} in the protobuf envelope`
    );
  if (contentType !== '' && contentType !== protobufContentType) {
    throw new ProtobufError(
      'Malformed',
      `unsupported content type ${JSON.stringify(contentType)} in the protobuf envelope`
    );
  }
  if (!apiVersion || !kind)
    throw new ProtobufError('UnknownKind', 'the protobuf envelope does not name an apiVersion and kind');
  const def = messageForKind(apiVersion, kind);
  if (!def)
    throw new ProtobufError(
      'UnknownKind',
      `no protobuf schema for kind ${kind} in version ${JSON.stringify(apiVersion)}`
    );
  const object = { apiVersion, kind, ...decodeMessage(def, raw, 0, '') };
  return { apiVersion, kind, object };
}

/** The inverse of {@link decodeKubernetesProtobuf}, byte for byte what Go's protobuf serializer writes. */
export function encodeKubernetesProtobuf(obj: Record<string, unknown>): Buffer {
  const { apiVersion, kind, ...fields } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new ProtobufError('InvalidObject', 'object: apiVersion and kind must be strings');
  }
  const def = messageForKind(apiVersion, kind);
  if (!def)
    throw new ProtobufError(
      'UnknownKind',
      `no protobuf schema for kind ${kind} in version ${JSON.stringify(apiVersion)}`
    );
  const typeMeta = new ProtoWriter();
  typeMeta.string(1, apiVersion);
  typeMeta.string(2, kind);
  const envelope = new ProtoWriter();
  envelope.bytes(1, typeMeta.finish());
  envelope.bytes(2, encodeMessage(def, fields, 0, ''));
  envelope.string(3, '');
  envelope.string(4, '');
  return Buffer.concat([magic, envelope.finish()]);
}
