import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeKubernetesProtobuf, encodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufError } from './index.js';
import { knownKinds, messageDef, unresolvedTypes } from './schema/index.js';
import { representativeObjects } from './testdata.js';
import { ProtoWriter } from './wire.js';

/** Every key of `expected` is in `actual` with the same value; `actual` may hold more (fields Go always shows). */
function assertContains(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected !== 'object' || expected === null) return assert.deepEqual(actual, expected, path);
  assert.equal(typeof actual, 'object', path);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), path);
    assert.equal(actual.length, expected.length, `${path}.length`);
  }
  for (const [key, value] of Object.entries(expected))
    assertContains((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
}

function fieldNumber(message: string, jsonName: string): number {
  const field = messageDef(message)?.fields.find((f) => f.jsonName === jsonName);
  assert.ok(field, `${message}.${jsonName}`);
  return field.number;
}

const magic = Buffer.from('k8s\0', 'latin1');

/** A body with the given raw message bytes, for hand-built wire input. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra?: (w: ProtoWriter) => void): Buffer {
  const typeMeta = new ProtoWriter();
  typeMeta.string(1, apiVersion);
  typeMeta.string(2, kind);
  const w = new ProtoWriter();
  w.bytes(1, typeMeta.finish());
  w.bytes(2, raw);
  extra?.(w);
  return Buffer.concat([magic, w.finish()]);
}

function message(build: (w: ProtoWriter) => void): Buffer {
  const w = new ProtoWriter();
  build(w);
  return w.finish();
}

function protobufError(code: ProtobufError['code'], pattern: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ProtobufError && err.code === code && pattern.test(err.message);
}

describe('schema', () => {
  it('resolves every message type the tables refer to', () => {
    assert.deepEqual(unresolvedTypes(), []);
  });

  it('has a representative object for every kind', () => {
    const covered = new Set(representativeObjects.map((o) => `${String(o.apiVersion)} ${String(o.kind)}`));
    for (const { apiVersion, kind } of knownKinds())
      assert.ok(covered.has(`${apiVersion} ${kind}`), `${apiVersion} ${kind}`);
  });
});

describe('round trip', () => {
  for (const obj of representativeObjects) {
    it(`${String(obj.apiVersion)} ${String(obj.kind)}`, () => {
      const body = encodeKubernetesProtobuf(obj);
      const decoded = decodeKubernetesProtobuf(body);
      assert.equal(decoded.apiVersion, obj.apiVersion);
      assert.equal(decoded.kind, obj.kind);
      assertContains(decoded.object, obj);
      // The decoded form is canonical: encoding it again gives the same bytes.
      assert.deepEqual(encodeKubernetesProtobuf(decoded.object), body);
    });
  }
});

describe('JSON presence follows the Go struct', () => {
  const cases: Array<{ name: string; obj: Record<string, unknown>; want: Record<string, unknown> }> = [
    {
      name: 'zero value fields Go writes anyway are left out; value structs are always there',
      obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
      want: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} },
    },
    {
      name: 'pointers keep their zero values, absent pointers stay absent',
      obj: { apiVersion: 'v1', kind: 'Secret', metadata: {}, immutable: false, data: { k: '' } },
      want: { apiVersion: 'v1', kind: 'Secret', metadata: {}, immutable: false, data: { k: '' } },
    },
    {
      name: 'fields without omitempty are filled with their zero value',
      obj: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { nonResourceAttributes: {} },
      },
      want: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { nonResourceAttributes: {} },
        status: { allowed: false },
      },
    },
    {
      name: 'IntOrString and Quantity zero values under omitempty are left out',
      obj: { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80 }] } },
      want: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {},
        spec: { ports: [{ port: 80 }] },
        status: { loadBalancer: {} },
      },
    },
    {
      name: 'empty lists and maps are left out',
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { labels: {}, finalizers: [] }, data: {} },
      want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} },
    },
  ];
  for (const { name, obj, want } of cases) {
    it(name, () => {
      assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(obj)).object, want);
    });
  }

  it('writes non-pointer fields even when absent, as Go does', () => {
    const body = encodeKubernetesProtobuf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    // Bytes kubectl 1.33 sends for `kubectl create namespace team-a`.
    const kubectl =
      '6b3873000a0f0a02763112094e616d657370616365121e0a160a067465616d2d611200' +
      '1a0022002a0032003800420012001a020a001a002200';
    assert.equal(body.toString('hex'), kubectl);
  });
});

describe('wire input from other encoders', () => {
  const spec = fieldNumber('core.Pod', 'spec');
  const securityContext = fieldNumber('core.PodSpec', 'securityContext');
  const supplementalGroups = fieldNumber('core.PodSecurityContext', 'supplementalGroups');

  it('accepts packed and unpacked repeated numbers', () => {
    const packed = message((w) => w.bytes(supplementalGroups, Uint8Array.from([1, 2, 0x96, 0x01])));
    const unpacked = message((w) => w.varint(supplementalGroups, 3));
    const raw = message((w) =>
      w.bytes(
        spec,
        message((s) => s.bytes(securityContext, Buffer.concat([packed, unpacked])))
      )
    );
    const pod = decodeKubernetesProtobuf(envelope('v1', 'Pod', raw)).object as { spec: { securityContext: unknown } };
    assert.deepEqual(pod.spec.securityContext, { supplementalGroups: [1, 2, 150, 3] });
  });

  it('skips unknown fields, merges repeated occurrences of a message, and keeps the last scalar', () => {
    const meta = (build: (w: ProtoWriter) => void): Uint8Array => message((w) => w.bytes(1, message(build)));
    const raw = Buffer.concat([
      meta((m) => m.string(fieldNumber('meta.ObjectMeta', 'name'), 'first')),
      message((w) => w.varint(999, 7)),
      meta((m) => {
        m.string(fieldNumber('meta.ObjectMeta', 'name'), 'second');
        m.bytes(
          fieldNumber('meta.ObjectMeta', 'labels'),
          message((e) => (e.string(1, 'a'), e.string(2, 'b')))
        );
      }),
    ]);
    const { object } = decodeKubernetesProtobuf(envelope('v1', 'ServiceAccount', raw));
    assert.deepEqual(object, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'second', labels: { a: 'b' } },
    });
  });

  it('keeps a __proto__ map key as data', () => {
    const { object } = decodeKubernetesProtobuf(
      encodeKubernetesProtobuf(
        JSON.parse('{"apiVersion":"v1","kind":"ConfigMap","data":{"__proto__":"x"}}') as Record<string, unknown>
      )
    );
    const data = object.data as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.deepEqual(Object.entries(data), [['__proto__', 'x']]);
  });

  it('reads negative int32 and int64 values', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
      spec: { priority: -5, tolerations: [{ tolerationSeconds: -1 }], containers: [] },
    };
    const pod = decodeKubernetesProtobuf(encodeKubernetesProtobuf(obj)).object as { spec: Record<string, unknown> };
    assert.equal(pod.spec.priority, -5);
    assert.deepEqual(pod.spec.tolerations, [{ tolerationSeconds: -1 }]);
  });

  it('treats DeleteOptions as part of every group version', () => {
    const body = encodeKubernetesProtobuf({
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
    });
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
    });
  });
});

describe('rejects bad bodies with a ProtobufError', () => {
  const ok = encodeKubernetesProtobuf({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c' },
    data: { a: 'b' },
  });
  const cases: Array<{ name: string; body: Uint8Array; code: ProtobufError['code']; message: RegExp }> = [
    { name: 'JSON', body: Buffer.from('{"kind":"Namespace"}'), code: 'BadMagic', message: /k8s\\x00/ },
    { name: 'empty', body: new Uint8Array(), code: 'BadMagic', message: /prefix/ },
    {
      name: 'truncated',
      body: ok.subarray(0, ok.length - 9),
      code: 'Malformed',
      message: /exceeds the message|truncated/,
    },
    {
      name: 'unknown kind',
      body: envelope('apps/v1', 'Deployment', new Uint8Array()),
      code: 'UnknownKind',
      message: /Deployment.*apps\/v1/,
    },
    {
      name: 'no kind',
      body: envelope('v1', '', new Uint8Array()),
      code: 'UnknownKind',
      message: /apiVersion and kind/,
    },
    {
      name: 'compressed',
      body: envelope('v1', 'Namespace', new Uint8Array(), (w) => w.string(3, 'gzip')),
      code: 'Malformed',
      message: /content encoding "gzip"/,
    },
    {
      name: 'group wire type',
      body: Buffer.concat([magic, Uint8Array.from([0x0b])]),
      code: 'Malformed',
      message: /wire type 3/,
    },
    {
      name: 'over-long varint',
      body: Buffer.concat([magic, Uint8Array.from([0x08, ...Array<number>(10).fill(0xff), 0x01])]),
      code: 'Malformed',
      message: /varint/,
    },
    {
      name: 'int64 beyond JSON numbers',
      body: envelope(
        'v1',
        'Namespace',
        message((w) =>
          w.bytes(
            1,
            message((m) => m.varint(fieldNumber('meta.ObjectMeta', 'generation'), 2n ** 60n))
          )
        )
      ),
      code: 'Malformed',
      message: /metadata\.generation: int64 1152921504606846976/,
    },
    {
      name: 'string where a message belongs',
      body: envelope(
        'v1',
        'Namespace',
        message((w) => w.varint(1, 5))
      ),
      code: 'Malformed',
      message: /metadata: expected a length-delimited message/,
    },
  ];
  for (const { name, body, code, message: pattern } of cases) {
    it(name, () => assert.throws(() => decodeKubernetesProtobuf(body), protobufError(code, pattern)));
  }

  it('never fails with anything else on truncated or corrupted input', () => {
    const pod = encodeKubernetesProtobuf(representativeObjects.find((o) => o.kind === 'Pod')!);
    let seed = 1;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bodies: Uint8Array[] = [];
    for (let cut = 0; cut < pod.length; cut += 7) bodies.push(pod.subarray(0, cut));
    for (let i = 0; i < 2000; i++) {
      const body = Buffer.from(pod);
      for (let flips = 1 + random(4); flips > 0; flips--) body[4 + random(body.length - 4)] = random(256);
      bodies.push(body);
    }
    for (const body of bodies) {
      try {
        decodeKubernetesProtobuf(body);
      } catch (err) {
        assert.ok(err instanceof ProtobufError, String(err));
      }
    }
  });
});

describe('encode rejects objects that do not fit the schema', () => {
  const cases: Array<{ name: string; obj: Record<string, unknown>; message: RegExp }> = [
    {
      name: 'unknown field',
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { nmae: 'x' } },
      message: /metadata: unknown field "nmae" for meta.ObjectMeta/,
    },
    {
      name: 'wrong scalar type',
      obj: { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: '80' }] } },
      message: /spec\.ports\[0\]\.port: expected int32, got "80"/,
    },
    {
      name: 'int32 overflow',
      obj: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', value: 2 ** 31 },
      message: /value: expected int32/,
    },
    {
      name: 'bad base64',
      obj: { apiVersion: 'v1', kind: 'Secret', data: { k: 'not base64!' } },
      message: /data\["k"\]: expected bytes/,
    },
    {
      name: 'list expected',
      obj: { apiVersion: 'v1', kind: 'Namespace', spec: { finalizers: 'kubernetes' } },
      message: /spec\.finalizers: expected a list/,
    },
    {
      name: 'bad timestamp',
      obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { creationTimestamp: '2024-02-30T00:00:00Z' } },
      message: /creationTimestamp: expected an RFC 3339 timestamp/,
    },
    { name: 'no kind', obj: { apiVersion: 'v1' }, message: /apiVersion and kind must be strings/ },
  ];
  for (const { name, obj, message: pattern } of cases) {
    it(name, () => assert.throws(() => encodeKubernetesProtobuf(obj), protobufError('InvalidObject', pattern)));
  }

  it('unknown kinds', () => {
    assert.throws(
      () => encodeKubernetesProtobuf({ apiVersion: 'v1', kind: 'Widget' }),
      protobufError('UnknownKind', /Widget/)
    );
  });
});

describe('isKubernetesProtobuf', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['application/vnd.kubernetes.protobuf', true],
    ['Application/VND.Kubernetes.Protobuf; charset=binary', true],
    ['application/vnd.kubernetes.protobuf;stream=watch', true],
    ['application/json', false],
    ['application/vnd.kubernetes.protobuf+json', false],
    ['', false],
    [undefined, false],
  ];
  for (const [contentType, want] of cases) {
    it(`${String(contentType)} → ${want}`, () => assert.equal(isKubernetesProtobuf(contentType), want));
  }
});
