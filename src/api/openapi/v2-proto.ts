// /openapi/v2 as gnostic's openapi_v2.Document protobuf (github.com/google/gnostic openapiv2/OpenAPIv2.proto):
// client-go's OpenAPISchema() only asks for this encoding, and kubectl 1.27/1.28 `explain` fails without it.
// Only the parts of swagger 2.0 our documents use are encoded; field numbers are the .proto's.
import type { Schema } from './definitions.js';

type Field = Buffer;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 127) {
    bytes.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

const tag = (field: number, wire: number): Buffer => varint(field * 8 + wire);
const bytes = (field: number, b: Buffer): Field => Buffer.concat([tag(field, 2), varint(b.length), b]);
const msg = (field: number, fields: Field[]): Field => bytes(field, Buffer.concat(fields));
const str = (field: number, s: unknown): Field[] => (typeof s === 'string' && s ? [bytes(field, Buffer.from(s))] : []);
const strs = (field: number, a: unknown): Field[] => (Array.isArray(a) ? a.flatMap((s) => str(field, s)) : []);
const bool = (field: number, b: unknown): Field[] => (b === true ? [Buffer.concat([tag(field, 0), varint(1)])] : []);

/** gnostic Any: JSON is YAML, which is what kube-openapi's proto models parse. */
const any = (field: number, value: unknown): Field => msg(field, str(2, JSON.stringify(value)));

/** NamedAny entries for every `x-` key (the vendor_extension field of most messages). */
function extensions(field: number, o: Schema): Field[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([k, v]) => msg(field, [...str(1, k), any(2, v)]));
}

function schema(s: Schema): Field[] {
  const props = s.properties as Record<string, Schema> | undefined;
  const additional = s.additionalProperties as Schema | boolean | undefined;
  return [
    ...str(1, s.$ref),
    ...str(2, s.format),
    ...str(4, s.description),
    ...bool(16, s.uniqueItems),
    ...strs(19, s.required),
    ...((s.enum ?? []) as unknown[]).map((v) => any(20, v)),
    ...(additional === undefined
      ? []
      : [msg(21, typeof additional === 'boolean' ? bool(2, additional) : [msg(1, schema(additional))])]),
    ...(s.type ? [msg(22, str(1, s.type))] : []),
    ...(s.items ? [msg(23, [msg(1, schema(s.items))])] : []),
    ...((s.allOf ?? []) as Schema[]).map((a) => msg(24, schema(a))),
    ...(props
      ? [
          msg(
            25,
            Object.entries(props).map(([k, v]) => msg(1, [...str(1, k), msg(2, schema(v))]))
          ),
        ]
      : []),
    ...extensions(31, s),
  ];
}

/** The fields of a ParametersItem: its `parameter` (1), a body_parameter (1) or non_body_parameter (2). */
function parametersItem(p: Schema): Field[] {
  const common = [...bool(1, p.required), ...str(2, p.in), ...str(3, p.description), ...str(4, p.name)];
  if (p.in === 'body') {
    const body = [...str(1, p.description), ...str(2, p.name), ...str(3, p.in), ...bool(4, p.required)];
    return [msg(1, [msg(1, [...body, msg(5, schema(p.schema))])])];
  }
  // QueryParameterSubSchema and PathParameterSubSchema number type/unique_items differently.
  const sub =
    p.in === 'path' ? [...str(5, p.type), ...bool(19, p.uniqueItems)] : [...str(6, p.type), ...bool(20, p.uniqueItems)];
  return [msg(1, [msg(2, [msg(p.in === 'path' ? 4 : 3, [...common, ...sub])])])];
}

function operation(op: Schema): Field[] {
  const responses = Object.entries(op.responses as Record<string, Schema>).map(([code, r]) =>
    msg(1, [
      ...str(1, code),
      msg(2, [msg(1, [...str(1, r.description), ...(r.schema ? [msg(2, [msg(1, schema(r.schema))])] : [])])]),
    ])
  );
  return [
    ...strs(1, op.tags),
    ...str(3, op.description),
    ...str(5, op.operationId),
    ...strs(6, op.produces),
    ...strs(7, op.consumes),
    ...((op.parameters ?? []) as Schema[]).map((p) => msg(8, parametersItem(p))),
    msg(9, responses),
    ...strs(10, op.schemes),
    ...extensions(13, op),
  ];
}

const methods: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

function pathItem(item: Schema): Field[] {
  return Object.entries(item).flatMap(([k, v]) => {
    if (k === 'parameters') return (v as Schema[]).map((p) => msg(9, parametersItem(p)));
    const field = methods[k];
    return field ? [msg(field, operation(v))] : [];
  });
}

/** Encodes the swagger 2.0 document built by buildOpenAPIV2 as an openapi_v2.Document. */
export function encodeOpenAPIV2(doc: Schema): Buffer {
  const security = doc.securityDefinitions as Record<string, Schema>;
  return Buffer.concat([
    ...str(1, doc.swagger),
    msg(2, [...str(1, doc.info.title), ...str(2, doc.info.version)]),
    msg(
      8,
      Object.entries(doc.paths as Record<string, Schema>).map(([k, v]) => msg(2, [...str(1, k), msg(2, pathItem(v))]))
    ),
    msg(
      9,
      Object.entries(doc.definitions as Record<string, Schema>).map(([k, v]) =>
        msg(1, [...str(1, k), msg(2, schema(v))])
      )
    ),
    ...((doc.security ?? []) as Record<string, string[]>[]).map((req) =>
      msg(
        12,
        Object.entries(req).map(([k, scopes]) => msg(1, [...str(1, k), msg(2, strs(1, scopes))]))
      )
    ),
    msg(
      13,
      Object.entries(security).map(([k, s]) =>
        msg(1, [
          ...str(1, k),
          msg(2, [msg(2, [...str(1, s.type), ...str(2, s.name), ...str(3, s.in), ...str(4, s.description)])]),
        ])
      )
    ),
  ]);
}
