import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../resource.js';
import { printerFor, toTable } from './index.js';

const now = new Date('2024-05-01T12:00:00Z');
const pods: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'a',
      namespace: 'default',
      uid: 'u-a',
      resourceVersion: '41',
      creationTimestamp: '2024-05-01T11:59:00Z',
    },
    spec: { containers: [{ name: 'app' }] },
    status: {
      phase: 'Succeeded',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'b',
      namespace: 'default',
      uid: 'u-b',
      resourceVersion: '42',
      creationTimestamp: '2024-05-01T11:00:00Z',
      labels: { app: 'b' },
    },
    spec: { containers: [{ name: 'app' }] },
    status: { phase: 'Pending' },
  },
];

void test('toTable - a list with metadata rows by default', () => {
  const table = toTable(printerFor('', 'pods'), pods, { now, listMeta: { resourceVersion: '50', continue: 'tok' } });
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(table.metadata, { resourceVersion: '50', continue: 'tok' });
  assert.deepEqual(
    table.columnDefinitions?.map((c) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']
  );
  assert.deepEqual(table.rows, [
    {
      cells: ['a', '0/1', 'Completed', '0', '60s', '<none>', '<none>', '<none>', '<none>'],
      conditions: [
        { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
      ],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pods[0]!.metadata },
    },
    {
      cells: ['b', '0/1', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pods[1]!.metadata },
    },
  ]);
});

void test('toTable - includeObject Object and None', () => {
  const full = toTable(printerFor('', 'pods'), pods, { now, includeObject: 'Object' });
  assert.equal(full.rows[1]?.object, pods[1]);
  const none = toTable(printerFor('', 'pods'), pods, { now, includeObject: 'None' });
  assert.ok(none.rows.every((r) => !('object' in r)));
  // A Table is plain JSON: what the server writes is what a client reads back.
  assert.deepEqual(JSON.parse(JSON.stringify(full)), full);
});

void test('toTable - an empty list still has its columns; noHeaders and meta.k8s.io/v1beta1', () => {
  const empty = toTable(printerFor('', 'nodes'), [], { now, listMeta: { resourceVersion: '7' } });
  assert.deepEqual(empty.rows, []);
  assert.equal(empty.columnDefinitions?.length, 10);
  const beta = toTable(printerFor('', 'pods'), pods.slice(1), {
    now,
    noHeaders: true,
    groupVersion: 'meta.k8s.io/v1beta1',
  });
  assert.equal(beta.apiVersion, 'meta.k8s.io/v1beta1');
  assert.equal(beta.columnDefinitions, undefined);
  assert.deepEqual(beta.rows[0]?.object, {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1beta1',
    metadata: pods[1]!.metadata,
  });
  assert.deepEqual(beta.metadata, {});
});

const registered: [string, string, string][] = [
  ['', 'pods', 'Ready'],
  ['', 'namespaces', 'Status'],
  ['', 'nodes', 'Status'],
  ['', 'services', 'Type'],
  ['', 'endpoints', 'Endpoints'],
  ['', 'serviceaccounts', 'Secrets'],
  ['', 'secrets', 'Type'],
  ['', 'configmaps', 'Data'],
  ['', 'events', 'Type'],
  ['events.k8s.io', 'events', 'Type'],
  ['coordination.k8s.io', 'leases', 'Holder'],
  ['certificates.k8s.io', 'certificatesigningrequests', 'Age'],
  ['rbac.authorization.k8s.io', 'rolebindings', 'Role'],
  ['rbac.authorization.k8s.io', 'clusterrolebindings', 'Role'],
  ['discovery.k8s.io', 'endpointslices', 'AddressType'],
  ['rbac.authorization.k8s.io', 'roles', 'Created At'],
  ['rbac.authorization.k8s.io', 'clusterroles', 'Created At'],
  ['apps', 'deployments', 'Created At'],
  ['', 'limitranges', 'Created At'],
];

for (const [group, resource, second] of registered) {
  void test(`printerFor - ${group || 'core'}/${resource}: one cell per column, even for a bare object`, () => {
    const printer = printerFor(group, resource);
    assert.equal(printer.columns[1]?.name, second);
    assert.equal(printer.columns.filter((c) => c.format === 'name').length, 1);
    assert.equal(printer.cells({ metadata: { name: 'bare' } }, now).length, printer.columns.length);
  });
}
