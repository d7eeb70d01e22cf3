// The registry as a whole (discovery data), plus the strategies of events.k8s.io, coordination and discovery.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiVersionOf } from '../resource.js';
import { leases } from './coordination.k8s.io/leases.js';
import { endpointslices } from './discovery.k8s.io/endpointslices.js';
import { events } from './events.k8s.io/events.js';
import { apiGroupOrder, builtinResources, findByKind, findResource, servedGroups } from './index.js';

const strings = (errs: { toString(): string }[] | undefined): string[] => (errs ?? []).map(String);

describe('builtin resources', () => {
  it('carries upstream discovery data', () => {
    const table = builtinResources.map((r) => [
      apiVersionOf(r),
      r.resource,
      r.kind,
      r.namespaced,
      (r.shortNames ?? []).join(','),
      (r.categories ?? []).join(','),
    ]);
    assert.deepEqual(table, [
      ['v1', 'configmaps', 'ConfigMap', true, 'cm', ''],
      ['v1', 'endpoints', 'Endpoints', true, 'ep', ''],
      ['v1', 'events', 'Event', true, 'ev', ''],
      ['v1', 'namespaces', 'Namespace', false, 'ns', ''],
      ['v1', 'nodes', 'Node', false, 'no', ''],
      ['v1', 'pods', 'Pod', true, 'po', 'all'],
      ['v1', 'secrets', 'Secret', true, '', ''],
      ['v1', 'serviceaccounts', 'ServiceAccount', true, 'sa', ''],
      ['v1', 'services', 'Service', true, 'svc', 'all'],
      ['events.k8s.io/v1', 'events', 'Event', true, 'ev', ''],
      ['authentication.k8s.io/v1', 'selfsubjectreviews', 'SelfSubjectReview', false, '', ''],
      ['authentication.k8s.io/v1', 'tokenreviews', 'TokenReview', false, '', ''],
      ['authorization.k8s.io/v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, '', ''],
      ['authorization.k8s.io/v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, '', ''],
      ['authorization.k8s.io/v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, '', ''],
      ['authorization.k8s.io/v1', 'subjectaccessreviews', 'SubjectAccessReview', false, '', ''],
      ['certificates.k8s.io/v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, 'csr', ''],
      ['rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', false, '', ''],
      ['rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', false, '', ''],
      ['rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', true, '', ''],
      ['rbac.authorization.k8s.io/v1', 'roles', 'Role', true, '', ''],
      ['coordination.k8s.io/v1', 'leases', 'Lease', true, '', ''],
      ['discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice', true, '', ''],
    ]);
    for (const r of builtinResources) assert.equal(r.listKind, `${r.kind}List`);
  });

  it('lists groups in upstream order and finds resources', () => {
    assert.deepEqual(servedGroups(), [
      '',
      'events.k8s.io',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'certificates.k8s.io',
      'rbac.authorization.k8s.io',
      'coordination.k8s.io',
      'discovery.k8s.io',
    ]);
    assert.equal(apiGroupOrder[0], '');
    assert.equal(findResource('', 'v1', 'pods')?.kind, 'Pod');
    assert.equal(findResource('apps', 'v1', 'deployments'), undefined);
    assert.equal(findByKind('events.k8s.io/v1', 'Event'), events);
    assert.equal(findByKind('v1', 'Lease'), undefined);
  });
});

describe('events.k8s.io events', () => {
  const ev = {
    metadata: { name: 'e', namespace: 'default' },
    regarding: { kind: 'Pod', namespace: 'default', name: 'p' },
    eventTime: '2024-01-01T00:00:00.000000Z',
    reportingController: 'default-scheduler',
    reportingInstance: 'default-scheduler-host',
    action: 'Binding',
    reason: 'Scheduled',
    type: 'Normal',
    note: 'ok',
  };
  it('accepts a complete event and reports missing fields', () => {
    assert.deepEqual(events.strategy.validate?.(ev), []);
    const bad = { ...ev, eventTime: undefined, type: 'Odd', action: '', deprecatedCount: 3 };
    assert.deepEqual(strings(events.strategy.validate?.(bad)), [
      'eventTime: Required value',
      'type: Invalid value: "": has invalid value: Odd',
      'deprecatedCount: Invalid value: "": needs to be unset',
      'action: Required value',
    ]);
    assert.deepEqual(strings(events.strategy.validateUpdate?.({ ...ev, note: 'changed' }, ev)), [
      'note: Invalid value: "changed": field is immutable',
    ]);
    assert.equal(events.strategy.selectableFields?.(ev)['involvedObject.name'], 'p');
  });
});

describe('leases', () => {
  it('validates durations and times', () => {
    assert.deepEqual(
      leases.strategy.validate?.({
        spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2024-01-01T00:00:00.123456Z' },
      }),
      []
    );
    assert.deepEqual(
      strings(
        leases.strategy.validate?.({ spec: { leaseDurationSeconds: 0, leaseTransitions: -1, renewTime: 'yesterday' } })
      ),
      [
        'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
        'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
        'spec.renewTime: Invalid value: "yesterday": must be an RFC 3339 date-time (e.g. 2006-01-02T15:04:05.000000Z)',
      ]
    );
  });
});

describe('endpointslices', () => {
  it('defaults ports and validates addresses by type', () => {
    const slice = {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['fe80::1'] }, { addresses: [] }],
      ports: [{ port: 80 }],
    };
    endpointslices.strategy.defaults?.(slice);
    assert.deepEqual(slice.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
    assert.deepEqual(strings(endpointslices.strategy.validate?.(slice)), [
      'endpoints[1].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address',
      'endpoints[2].addresses: Required value: must contain at least 1 address',
    ]);
    assert.deepEqual(
      strings(endpointslices.strategy.validateUpdate?.({ ...slice, addressType: 'IPv6', endpoints: [] }, slice)),
      ['addressType: Invalid value: "IPv6": field is immutable']
    );
  });
});
