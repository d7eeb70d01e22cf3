import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../resource.js';
import { nameIsDNS1035Label } from './names.js';
import {
  fillObjectMetaForUpdate,
  nameValidatorOf,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './object-meta.js';

const strings = (errs: { toString(): string }[]): string[] => errs.map(String);
const namespaced = { namespaced: true };
const clusterScoped = { namespaced: false };

describe('validateObjectMeta', () => {
  const cases: [string, KubeObject, { namespaced: boolean }, string[]][] = [
    ['valid', { metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } }, namespaced, []],
    [
      'name required',
      { metadata: { namespace: 'default' } },
      namespaced,
      ['metadata.name: Required value: name or generateName is required'],
    ],
    [
      'bad name',
      { metadata: { name: 'Web_1', namespace: 'default' } },
      namespaced,
      [
        `metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    ['namespace required', { metadata: { name: 'a' } }, namespaced, ['metadata.namespace: Required value']],
    [
      'namespace forbidden',
      { metadata: { name: 'a', namespace: 'x' } },
      clusterScoped,
      ['metadata.namespace: Forbidden: not allowed on this type'],
    ],
    [
      'bad label value',
      { metadata: { name: 'a', labels: { app: 'a b' } } },
      clusterScoped,
      [
        `metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ],
    [
      'annotation keys ignore case',
      { metadata: { name: 'a', annotations: { 'Example.COM/Key': 'v' } } },
      clusterScoped,
      [],
    ],
    [
      'annotations too large',
      { metadata: { name: 'a', annotations: { big: 'x'.repeat(256 * 1024) } } },
      clusterScoped,
      ['metadata.annotations: Too long: must have at most 262144 bytes'],
    ],
    [
      'owner reference fields',
      { metadata: { name: 'a', ownerReferences: [{ apiVersion: '', kind: 'X', name: 'n', uid: '' }] } },
      clusterScoped,
      [
        'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
      ],
    ],
    [
      'finalizer conflict',
      { metadata: { name: 'a', finalizers: ['orphan', 'foregroundDeletion'] } },
      clusterScoped,
      [
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
      ],
    ],
  ];
  for (const [name, obj, scope, want] of cases) {
    it(name, () => assert.deepEqual(strings(validateObjectMeta(obj, scope)), want));
  }

  it('validates generateName as a prefix and the generated name', () => {
    const errs = validateObjectMeta(
      { metadata: { generateName: 'Web-', name: 'Web-abcde', namespace: 'd' } },
      namespaced
    );
    assert.deepEqual(
      errs.map((e) => e.field),
      ['metadata.generateName', 'metadata.name']
    );
    assert.deepEqual(
      validateObjectMeta({ metadata: { generateName: 'web-', name: 'web-abcde', namespace: 'd' } }, namespaced),
      []
    );
  });

  it('picks the name rule from the strategy', () => {
    assert.equal(
      nameValidatorOf({ namespaced: true, strategy: { nameValidator: nameIsDNS1035Label } }),
      nameIsDNS1035Label
    );
    const rbac = { namespaced: false, strategy: { namePathSegmentOnly: true } };
    assert.deepEqual(validateObjectMeta({ metadata: { name: 'system:node' } }, rbac), []);
    const ns = { namespaced: false, strategy: { nameIsLabel: true } };
    assert.deepEqual(strings(validateObjectMeta({ metadata: { name: 'a.b' } }, ns)), [
      'metadata.name: Invalid value: "a.b": must not contain dots',
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  const old: KubeObject = {
    metadata: {
      name: 'a',
      namespace: 'd',
      uid: 'u1',
      resourceVersion: '5',
      creationTimestamp: '2024-01-01T00:00:00Z',
      generation: 2,
    },
  };

  it('accepts an update that changes only labels', () => {
    const next = { metadata: { ...old.metadata, labels: { x: 'y' } } };
    assert.deepEqual(validateObjectMetaUpdate(next, old), []);
  });

  it('reports immutable fields', () => {
    const next = { metadata: { ...old.metadata, name: 'b', uid: 'u2' } };
    assert.deepEqual(strings(validateObjectMetaUpdate(next, old)), [
      'metadata.name: Invalid value: "b": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
  });

  it('refuses new finalizers while deleting', () => {
    const deleting = { metadata: { ...old.metadata, deletionTimestamp: '2024-01-02T00:00:00Z', finalizers: ['a'] } };
    const next = { metadata: { ...deleting.metadata, finalizers: ['a', 'example.com/b'] } };
    assert.deepEqual(strings(validateObjectMetaUpdate(next, deleting)), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}',
    ]);
  });

  it('fills system fields a client omitted, as the store does before validating', () => {
    const next: KubeObject = { metadata: { name: 'a', namespace: 'd' } };
    fillObjectMetaForUpdate(next, old);
    assert.deepEqual(next.metadata, { ...old.metadata });
    assert.deepEqual(validateObjectMetaUpdate(next, old), []);
  });
});
