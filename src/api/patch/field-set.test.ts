import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldSet, pathString } from './field-set.js';
import { PatchError } from './patch-error.js';

// As kubectl get -o yaml --show-managed-fields prints an apply of a one-container pod.
const fieldsV1 = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:containers': {
      'k:{"name":"nginx"}': {
        '.': {},
        'f:image': {},
        'f:name': {},
        'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
      },
    },
  },
  'f:metadata2': { 'f:finalizers': { 'v:"a"': {} } },
};

describe('FieldSet', () => {
  it('round-trips FieldsV1', () => {
    const set = FieldSet.fromFieldsV1(fieldsV1);
    assert.ok(set.has(['f:metadata', 'f:labels']));
    assert.ok(set.has(['f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']));
    assert.ok(!set.has(['f:spec', 'f:containers']));
    assert.deepEqual(set.toFieldsV1(), fieldsV1);
  });

  it('orders members as upstream: ".", fields, keys, values, indexes', () => {
    const set = FieldSet.of([['i:1'], ['v:"x"'], ['k:{"a":1}'], ['f:b'], ['f:a'], ['i:0']]);
    assert.deepEqual(Object.keys(set.toFieldsV1()), ['f:a', 'f:b', 'k:{"a":1}', 'v:"x"', 'i:0', 'i:1']);
  });

  it('does set algebra on member paths', () => {
    const a = FieldSet.of([['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d']]);
    const b = FieldSet.of([['f:b', 'f:c'], ['f:e']]);
    assert.deepEqual(a.union(b).paths(), [['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d'], ['f:e']]);
    assert.deepEqual(a.difference(b).paths(), [['f:a'], ['f:b', 'f:d']]);
    assert.deepEqual(a.intersection(b).paths(), [['f:b', 'f:c']]);
    assert.deepEqual(a.recursiveDifference(FieldSet.of([['f:b']])).paths(), [['f:a']]);
    assert.deepEqual(a.within(FieldSet.of([['f:b']])).paths(), [
      ['f:b', 'f:c'],
      ['f:b', 'f:d'],
    ]);
    assert.ok(a.hasAtOrBelow(['f:b']));
    assert.ok(!a.hasAtOrBelow(['f:x']));
  });

  it('keeps only leaves for conflict reporting', () => {
    const set = FieldSet.of([['f:s', 'k:{"name":"c"}'], ['f:s', 'k:{"name":"c"}', 'f:image'], ['f:r']]);
    assert.deepEqual(set.leaves().paths(), [['f:r'], ['f:s', 'k:{"name":"c"}', 'f:image']]);
  });

  it('rejects malformed FieldsV1', () => {
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }), PatchError);
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:a': {} }), PatchError);
    assert.throws(() => FieldSet.fromFieldsV1('nope'), PatchError);
  });
});

describe('pathString', () => {
  const cases: [string[], string][] = [
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image'], '.spec.containers[name="c"].image'],
    [['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'], '.spec.ports[port=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', 'v:"x"'], '.metadata.finalizers[="x"]'],
    [['f:list', 'i:3'], '.list[3]'],
  ];
  for (const [path, want] of cases) it(want, () => assert.equal(pathString(path), want));
});
