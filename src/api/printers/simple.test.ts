// The printers with one or two computed cells: core, rbac, certificates, coordination and the default table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../resource.js';
import { csrPrinter } from './certificates.js';
import type { Printer } from './columns.js';
import { leasePrinter } from './coordination.js';
import { configMapPrinter, namespacePrinter, secretPrinter, serviceAccountPrinter } from './core.js';
import { defaultPrinter } from './default.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac.js';

const now = new Date('2024-05-01T12:00:00Z');
const meta = { name: 'x', creationTimestamp: '2024-05-01T11:50:00Z' };
const csr = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  metadata: { ...meta, name: 'node-csr-abc' },
  spec: {
    request: 'LS0t',
    signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    username: 'system:bootstrap:abcdef',
    usages: ['client auth'],
    ...spec,
  },
  status,
});
const approved = { type: 'Approved', status: 'True', reason: 'AutoApproved' };

const cases: { name: string; printer: Printer; obj: KubeObject; want: unknown[] }[] = [
  {
    name: 'namespace active',
    printer: namespacePrinter,
    obj: { metadata: meta, status: { phase: 'Active' } },
    want: ['x', 'Active', '10m'],
  },
  {
    name: 'namespace terminating',
    printer: namespacePrinter,
    obj: { metadata: { ...meta, deletionTimestamp: '2024-05-01T11:59:00Z' }, status: { phase: 'Terminating' } },
    want: ['x', 'Terminating', '10m'],
  },
  {
    name: 'service account token secret',
    printer: secretPrinter,
    obj: {
      metadata: meta,
      type: 'kubernetes.io/service-account-token',
      data: { 'ca.crt': 'LS0t', namespace: 'ZGVmYXVsdA==', token: 'ZXlK' },
    },
    want: ['x', 'kubernetes.io/service-account-token', 3, '10m'],
  },
  {
    name: 'empty opaque secret',
    printer: secretPrinter,
    obj: { metadata: meta, type: 'Opaque' },
    want: ['x', 'Opaque', 0, '10m'],
  },
  {
    name: 'configmap counts data and binaryData',
    printer: configMapPrinter,
    obj: {
      metadata: { ...meta, name: 'kube-root-ca.crt' },
      data: { 'ca.crt': '-----BEGIN CERTIFICATE-----' },
      binaryData: { blob: 'AAE=' },
    },
    want: ['kube-root-ca.crt', 2, '10m'],
  },
  {
    name: 'service account without secrets',
    printer: serviceAccountPrinter,
    obj: { metadata: { ...meta, name: 'default' } },
    want: ['default', 0, '10m'],
  },
  {
    name: 'service account with a legacy token secret',
    printer: serviceAccountPrinter,
    obj: { metadata: meta, secrets: [{ name: 'x-token-abcde' }] },
    want: ['x', 1, '10m'],
  },
  {
    name: 'rolebinding with every kind of subject',
    printer: roleBindingPrinter,
    obj: {
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
        { kind: 'ServiceAccount', namespace: 'kube-system', name: 'builder' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' },
      ],
    },
    want: ['x', 'ClusterRole/admin', '10m', 'alice', 'devs, ops', 'kube-system/builder'],
  },
  {
    name: 'clusterrolebinding without subjects',
    printer: clusterRoleBindingPrinter,
    obj: {
      metadata: { ...meta, name: 'system:node' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
    },
    want: ['system:node', 'ClusterRole/system:node', '10m', '', '', ''],
  },
  {
    name: 'csr pending, no requested duration',
    printer: csrPrinter,
    obj: csr({}),
    want: [
      'node-csr-abc',
      '10m',
      'kubernetes.io/kube-apiserver-client-kubelet',
      'system:bootstrap:abcdef',
      '<none>',
      'Pending',
    ],
  },
  {
    name: 'csr approved and issued, one day',
    printer: csrPrinter,
    obj: csr({ expirationSeconds: 86400 }, { conditions: [approved], certificate: 'LS0tLS1CRUdJTg==' }),
    want: [
      'node-csr-abc',
      '10m',
      'kubernetes.io/kube-apiserver-client-kubelet',
      'system:bootstrap:abcdef',
      '24h',
      'Approved,Issued',
    ],
  },
  {
    name: 'csr approved then failed, one hour, no signer',
    printer: csrPrinter,
    obj: csr(
      { signerName: '', expirationSeconds: 3600 },
      { conditions: [approved, { type: 'Failed', status: 'True' }] }
    ),
    want: ['node-csr-abc', '10m', '<none>', 'system:bootstrap:abcdef', '60m', 'Approved,Failed'],
  },
  {
    name: 'csr denied wins over approved',
    printer: csrPrinter,
    obj: csr({ expirationSeconds: 600 }, { conditions: [approved, { type: 'Denied', status: 'True' }] }),
    want: [
      'node-csr-abc',
      '10m',
      'kubernetes.io/kube-apiserver-client-kubelet',
      'system:bootstrap:abcdef',
      '10m',
      'Denied',
    ],
  },
  {
    name: 'lease with a holder',
    printer: leasePrinter,
    obj: { metadata: { ...meta, name: 'node-1' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } },
    want: ['node-1', 'node-1', '10m'],
  },
  { name: 'lease without a holder', printer: leasePrinter, obj: { metadata: meta, spec: {} }, want: ['x', '', '10m'] },
  {
    name: 'default table',
    printer: defaultPrinter,
    obj: { metadata: { ...meta, name: 'admin' } },
    want: ['admin', '2024-05-01T11:50:00Z'],
  },
  {
    name: 'default table drops fractions of a second',
    printer: defaultPrinter,
    obj: { metadata: { name: 'view', creationTimestamp: '2024-05-01T11:50:00.987Z' } },
    want: ['view', '2024-05-01T11:50:00Z'],
  },
  {
    name: 'default table without a creation time',
    printer: defaultPrinter,
    obj: { metadata: { name: 'edit' } },
    want: ['edit', '0001-01-01T00:00:00Z'],
  },
];

for (const tc of cases) {
  void test(`printers - ${tc.name}`, () => {
    assert.deepEqual(tc.printer.cells(tc.obj, now), tc.want);
  });
}

void test('printers - column names and priorities', () => {
  const names = (p: Printer) => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name)).join(' ');
  assert.equal(names(namespacePrinter), 'Name Status Age');
  assert.equal(names(secretPrinter), 'Name Type Data Age');
  assert.equal(names(configMapPrinter), 'Name Data Age');
  assert.equal(names(serviceAccountPrinter), 'Name Secrets Age');
  assert.equal(names(roleBindingPrinter), 'Name Role Age Users* Groups* ServiceAccounts*');
  assert.equal(names(clusterRoleBindingPrinter), 'Name Role Age Users* Groups* ServiceAccounts*');
  assert.equal(names(csrPrinter), 'Name Age SignerName Requestor RequestedDuration Condition');
  assert.equal(names(leasePrinter), 'Name Holder Age');
  assert.equal(names(defaultPrinter), 'Name Created At');
  assert.equal(defaultPrinter.columns[1]?.type, 'date');
  assert.equal(clusterRoleBindingPrinter.columns[3]?.description, 'Users in the clusterRoleBinding');
});
