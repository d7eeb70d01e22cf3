// How the message tables are written and what they compile to.
//
// Field numbers and proto types come from upstream's generated.proto files; presence comes from the Go struct
// (pointer or not, `omitempty` or not), because the JSON form the API shows is Go's encoding/json of that struct,
// and go-to-protobuf writes every non-pointer field even when it holds its zero value.

/** The proto2 scalar types Kubernetes' generated.proto files use. */
export type ScalarType = 'string' | 'bool' | 'int32' | 'int64' | 'bytes';

/**
 * One field as the tables write it: `[number, jsonName, type]`, in the Go struct's order (the JSON key order).
 *
 * `type` is Go-flavoured:
 * - `T`: a value field. A zero scalar is left out of the JSON (Go `omitempty`); a message is always there (`{}`).
 * - `T!`: a scalar that is always in the JSON, zero or not (a Go field without `omitempty`).
 * - `*T`: a Go pointer. It is in the JSON exactly when it is on the wire, even with a zero value (`replicas: 0`).
 * - `[]T` and `map[string]V`: repeated and map fields; in the JSON only when non-empty.
 *
 * `T` is a {@link ScalarType} or a message name `<package>.<Message>` (`core.PodSpec`, `meta.ObjectMeta`).
 * An empty `jsonName` is a Go embedded struct: on the wire a nested message, in the JSON its fields are inlined.
 */
export type FieldSpec = readonly [number: number, jsonName: string, type: string];

export type MessageSpecs = Readonly<Record<string, readonly FieldSpec[]>>;

export type Presence = 'omitEmpty' | 'always' | 'pointer';

export interface FieldDef {
  readonly number: number;
  readonly jsonName: string;
  /** A {@link ScalarType} or a message name; for maps, the value type. */
  readonly type: string;
  readonly repeated: boolean;
  /** Map fields are repeated entry messages `{1: key, 2: value}`; Kubernetes map keys are always strings. */
  readonly map: boolean;
  readonly presence: Presence;
}

export interface MessageDef {
  readonly name: string;
  /** In JSON key order. */
  readonly fields: readonly FieldDef[];
  /** In ascending field number, the order Go's generated marshallers write. */
  readonly wireOrder: readonly FieldDef[];
  readonly byNumber: ReadonlyMap<number, FieldDef>;
}

const scalarTypes: ReadonlySet<string> = new Set<ScalarType>(['string', 'bool', 'int32', 'int64', 'bytes']);

export function isScalarType(type: string): type is ScalarType {
  return scalarTypes.has(type);
}

/** Deeper than any built-in type nests; bounds how far hostile input can make the codec recurse. */
export const maxDepth = 64;

/** Go's zero value of a scalar, in JSON (bytes are base64 strings). */
export function zeroScalar(type: ScalarType): string | number | boolean {
  return type === 'string' || type === 'bytes' ? '' : type === 'bool' ? false : 0;
}

export function parseField([number, jsonName, spec]: FieldSpec): FieldDef {
  const mapMatch = /^map\[string\](.+)$/.exec(spec);
  if (mapMatch) return { number, jsonName, type: mapMatch[1]!, repeated: true, map: true, presence: 'omitEmpty' };
  if (spec.startsWith('[]'))
    return { number, jsonName, type: spec.slice(2), repeated: true, map: false, presence: 'omitEmpty' };
  if (spec.startsWith('*'))
    return { number, jsonName, type: spec.slice(1), repeated: false, map: false, presence: 'pointer' };
  if (spec.endsWith('!'))
    return { number, jsonName, type: spec.slice(0, -1), repeated: false, map: false, presence: 'always' };
  return { number, jsonName, type: spec, repeated: false, map: false, presence: 'omitEmpty' };
}

export function compileMessage(name: string, specs: readonly FieldSpec[]): MessageDef {
  const fields = specs.map(parseField);
  return {
    name,
    fields,
    wireOrder: [...fields].sort((a, b) => a.number - b.number),
    byNumber: new Map(fields.map((f) => [f.number, f])),
  };
}
