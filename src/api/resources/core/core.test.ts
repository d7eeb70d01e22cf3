// The smaller core/v1 strategies: namespaces, nodes, endpoints, configmaps, secrets, events, serviceaccounts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { configmaps } from './configmaps.js';
import { endpoints } from './endpoints.js';
import { events } from './events.js';
import { namespaces } from './namespaces.js';
import { nodes } from './nodes.js';
import { secrets } from './secrets.js';
import { serviceaccounts } from './serviceaccounts.js';

const strings = (errs: { toString(): string }[] | undefined): string[] => (errs ?? []).map(String);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function defaulted(def: ResourceDef, o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  def.strategy.defaults?.(copy);
  return copy;
}
const validate = (def: ResourceDef, o: KubeObject): string[] => strings(def.strategy.validate?.(defaulted(def, o)));

describe('namespaces', () => {
  it('defaults finalizers, phase and the name label', () => {
    const ns = defaulted(namespaces, { metadata: { name: 'team-a' } });
    assert.deepEqual(ns, {
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    assert.deepEqual(namespaces.strategy.selectableFields?.(ns), { 'status.phase': 'Active' });
  });
  it('checks spec.finalizers', () => {
    assert.deepEqual(validate(namespaces, { metadata: { name: 'a' }, spec: { finalizers: ['foo'] } }), [
      'spec.finalizers[0]: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });
});

describe('nodes', () => {
  it('defaults allocatable to capacity and selects by spec.unschedulable', () => {
    const n = defaulted(nodes, {
      metadata: { name: 'n1' },
      spec: { unschedulable: true },
      status: { capacity: { cpu: '2' } },
    });
    assert.deepEqual((n.status as any).allocatable, { cpu: '2' });
    assert.deepEqual(nodes.strategy.selectableFields?.(n), { 'spec.unschedulable': 'true' });
  });
  it('validates taints and keeps podCIDRs', () => {
    const taints = [
      { key: 'k', effect: 'NoSchedule' },
      { key: 'k', effect: 'NoSchedule' },
      { key: 'j', effect: 'Sometimes' },
    ];
    assert.deepEqual(validate(nodes, { metadata: { name: 'n' }, spec: { taints } }), [
      'spec.taints[1]: Duplicate value: {"key":"k","effect":"NoSchedule"}: taints must be unique by key and effect pair',
      'spec.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
    const old = { metadata: { name: 'n' }, spec: { podCIDRs: ['10.244.0.0/24'] } };
    assert.deepEqual(
      strings(nodes.strategy.validateUpdate?.({ metadata: { name: 'n' }, spec: { podCIDRs: ['10.244.1.0/24'] } }, old)),
      ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']
    );
  });
});

describe('endpoints', () => {
  it('defaults port protocols and validates addresses', () => {
    const ep = {
      metadata: { name: 'e' },
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: 'nope' }, { ip: '169.254.1.1' }], ports: [{ port: 80 }] }],
    };
    assert.equal((defaulted(endpoints, ep).subsets as any)[0].ports[0].protocol, 'TCP');
    assert.deepEqual(validate(endpoints, ep), [
      'subsets[0].addresses[1].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].addresses[2].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    ]);
    assert.deepEqual(validate(endpoints, { subsets: [{ addresses: [{ ip: '127.0.0.1' }] }] }), []);
    assert.deepEqual(validate(endpoints, { subsets: [{}] }), [
      'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
    ]);
  });
});

describe('configmaps', () => {
  it('checks keys, duplicates with binaryData and size', () => {
    assert.deepEqual(validate(configmaps, { data: { 'a b': 'x', dup: 'y' }, binaryData: { dup: b64('z') } }), [
      `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ]);
    assert.deepEqual(validate(configmaps, { data: { big: 'x'.repeat(1024 * 1024 + 1) } }), [
      ': Too long: must have at most 1048576 bytes',
    ]);
  });
  it('refuses data changes once immutable', () => {
    const old = { immutable: true, data: { a: '1' } };
    assert.deepEqual(strings(configmaps.strategy.validateUpdate?.({ immutable: true, data: { a: '2' } }, old)), [
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
    assert.deepEqual(strings(configmaps.strategy.validateUpdate?.({ data: { a: '1' } }, old)), [
      'immutable: Forbidden: field is immutable when `immutable` is set',
    ]);
  });
});

describe('secrets', () => {
  it('defaults the type and folds stringData into data', () => {
    const sec = defaulted(secrets, { data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new' } });
    assert.deepEqual(sec, { type: 'Opaque', data: { a: b64('new'), b: b64('keep') } });
    assert.deepEqual(secrets.strategy.selectableFields?.(sec), { type: 'Opaque' });
  });
  it('validates base64, type keys and immutability', () => {
    assert.deepEqual(validate(secrets, { data: { a: 'not base64!' } }), [
      'data[a]: Invalid value: "<secret contents redacted>": must be a base64-encoded string',
    ]);
    assert.deepEqual(validate(secrets, { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }), [
      'data[tls.key]: Required value',
    ]);
    const old = { type: 'Opaque', data: {} };
    assert.deepEqual(
      strings(
        secrets.strategy.validateUpdate?.({ type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }, old)
      ),
      ['type: Invalid value: "kubernetes.io/tls": field is immutable']
    );
  });
});

describe('events', () => {
  it('checks namespace agreement and exposes upstream selectable fields', () => {
    const ev = {
      metadata: { name: 'p.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'other', name: 'p', uid: 'u' },
      reason: 'Scheduled',
      source: { component: 'default-scheduler' },
      type: 'Normal',
    };
    assert.deepEqual(validate(events, ev), [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
    assert.deepEqual(events.strategy.selectableFields?.(ev), {
      'involvedObject.kind': 'Pod',
      'involvedObject.namespace': 'other',
      'involvedObject.name': 'p',
      'involvedObject.uid': 'u',
      'involvedObject.apiVersion': '',
      'involvedObject.resourceVersion': '',
      'involvedObject.fieldPath': '',
      reason: 'Scheduled',
      reportingComponent: '',
      source: 'default-scheduler',
      type: 'Normal',
    });
  });
  it('requires reporting fields on events with an eventTime', () => {
    const ev = {
      metadata: { namespace: 'default' },
      involvedObject: { namespace: 'default' },
      eventTime: '2024-01-01T00:00:00.000000Z',
    };
    assert.deepEqual(
      validate(events, ev).map((e) => e.split(':')[0]),
      ['reportingComponent', 'reportingComponent', 'reportingComponent', 'reportingInstance', 'action']
    );
  });
});

describe('serviceaccounts', () => {
  it('validates referenced secret names', () => {
    assert.deepEqual(
      validate(serviceaccounts, { secrets: [{ name: 'ok' }], imagePullSecrets: [{ name: 'Bad' }] }).map(
        (e) => e.split(':')[0]
      ),
      ['imagePullSecrets[0].name']
    );
  });
});
