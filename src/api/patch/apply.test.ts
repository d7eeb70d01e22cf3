import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConflictMessage, applyPatch, newApplyConflict, updateManagedFields, type ApplyOptions } from './apply.js';
import type { JsonObject } from './json.js';
import type { ApplyConflict, ManagedFieldsEntry } from './managed-fields.js';
import { patchSchemaFor } from './merge-keys.js';
import { PatchError } from './patch-error.js';

const schema = patchSchemaFor('v1', 'Pod');
const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:01:00Z';
const T2 = '2024-01-01T00:02:00Z';

function pod(spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...metadata }, spec };
}

function apply(live: JsonObject | null, applied: JsonObject, manager: string, more: Partial<ApplyOptions> = {}) {
  return applyPatch({ live, applied, manager, force: false, schema, now: T1, ...more });
}

function applied(
  live: JsonObject | null,
  config: JsonObject,
  manager: string,
  more: Partial<ApplyOptions> = {}
): JsonObject {
  const r = apply(live, config, manager, more);
  assert.equal(r.conflicts, undefined, r.conflicts && applyConflictMessage(r.conflicts));
  return r.object;
}

/** What `kubectl create` stores: the object plus its Update entry. */
function created(obj: JsonObject, manager: string): JsonObject {
  const managedFields = updateManagedFields({ live: null, updated: obj, manager, schema, now: T0 });
  return {
    ...obj,
    metadata: { ...(obj.metadata as JsonObject), managedFields: managedFields as unknown as JsonObject[] },
  };
}

function entries(obj: JsonObject): ManagedFieldsEntry[] {
  return ((obj.metadata as JsonObject).managedFields ?? []) as unknown as ManagedFieldsEntry[];
}

function entry(obj: JsonObject, manager: string): ManagedFieldsEntry | undefined {
  return entries(obj).find((e) => e.manager === manager);
}

function spec(obj: JsonObject): JsonObject {
  return obj.spec as JsonObject;
}

const container = (image: string, extra: JsonObject = {}): JsonObject => ({ name: 'c', image, ...extra });

describe('applyPatch', () => {
  it('creates the object and records the applied fields', () => {
    const config = pod(
      { containers: [container('nginx', { ports: [{ containerPort: 80 }] })] },
      { labels: { app: 'a' } }
    );
    const { object, changed } = apply(null, config, 'kubectl');
    assert.equal(changed, true);
    assert.deepEqual(object.spec, config.spec);
    assert.deepEqual(entries(object), [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"c"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    ]);
  });

  it('is a no-op when the same configuration is applied again (time unchanged)', () => {
    const config = pod({ containers: [container('nginx')] });
    const live = applied(null, config, 'kubectl');
    const again = apply(live, config, 'kubectl', { now: T2 });
    assert.equal(again.changed, false);
    assert.deepEqual(again.object, live);
    assert.equal(entry(again.object, 'kubectl')?.time, T1);
  });

  it('moves the time when the object changes', () => {
    const live = applied(null, pod({ containers: [container('nginx')] }), 'kubectl');
    const next = applied(live, pod({ containers: [container('nginx:2')] }), 'kubectl', { now: T2 });
    assert.equal(entry(next, 'kubectl')?.time, T2);
    assert.equal((spec(next).containers as JsonObject[])[0]?.image, 'nginx:2');
  });

  it('removes fields, list items and set items the applier stopped applying', () => {
    const first = pod(
      { containers: [container('nginx'), { name: 'side', image: 'busybox' }], nodeSelector: { disk: 'ssd' } },
      { labels: { app: 'a', tier: 'web' }, finalizers: ['x', 'y'] }
    );
    const live = applied(null, first, 'kubectl');
    const next = applied(
      live,
      pod({ containers: [container('nginx')] }, { labels: { app: 'a' }, finalizers: ['y'] }),
      'kubectl'
    );
    assert.deepEqual((next.metadata as JsonObject).labels, { app: 'a' });
    assert.deepEqual((next.metadata as JsonObject).finalizers, ['y']);
    assert.deepEqual(spec(next), { containers: [container('nginx')] }, 'the emptied nodeSelector map goes too');
  });

  it('keeps a dropped field another manager also owns', () => {
    const live = applied(
      null,
      pod({ containers: [container('nginx')] }, { labels: { app: 'a', tier: 'web' } }),
      'kubectl'
    );
    const labelled = {
      ...live,
      metadata: { ...(live.metadata as JsonObject), labels: { app: 'a', tier: 'web', team: 'x' } },
    };
    const withLabeler = {
      ...labelled,
      metadata: {
        ...(labelled.metadata as JsonObject),
        managedFields: updateManagedFields({
          live,
          updated: labelled,
          manager: 'kubectl-label',
          schema,
          now: T1,
        }) as unknown as JsonObject[],
      },
    };
    const next = applied(withLabeler, pod({ containers: [container('nginx')] }, { labels: { app: 'a' } }), 'kubectl');
    assert.deepEqual((next.metadata as JsonObject).labels, { app: 'a', team: 'x' });
  });

  it('conflicts with an Update manager whose value it changes', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'kubectl-client-side-apply');
    const r = apply(live, pod({ containers: [container('nginx:2')] }), 'kubectl');
    assert.deepEqual(
      r.conflicts?.map((c) => c.field),
      ['.spec.containers[name="c"].image']
    );
    assert.equal(
      applyConflictMessage(r.conflicts),
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.containers[name="c"].image'
    );
  });

  it('does not conflict when the value is the same, and then both managers own the field', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'kubectl-create');
    const next = applied(live, pod({ containers: [container('nginx')] }), 'kubectl');
    assert.deepEqual(
      entries(next).map((e) => [e.manager, e.operation]),
      [
        ['kubectl', 'Apply'],
        ['kubectl-create', 'Update'],
      ]
    );
    assert.deepEqual(entry(next, 'kubectl-create')?.fieldsV1, {
      'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
  });

  it('with force takes the field from the other manager', () => {
    const live = created(pod({ containers: [container('nginx')], restartPolicy: 'Always' }), 'kubectl-create');
    const next = applied(live, pod({ containers: [container('nginx:2')] }), 'kubectl', { force: true });
    assert.equal((spec(next).containers as JsonObject[])[0]?.image, 'nginx:2');
    const theirs = entry(next, 'kubectl-create')!.fieldsV1;
    const item = ((theirs['f:spec'] as JsonObject)['f:containers'] as JsonObject)['k:{"name":"c"}'] as JsonObject;
    assert.equal(item['f:image'], undefined, 'the image left the other manager');
    assert.deepEqual(item['f:name'], {}, 'the fields it still shares stay');
  });

  it('lets two appliers share a field, and conflicts once one changes it', () => {
    const a = applied(null, pod({ containers: [container('nginx')], priority: 1 }), 'a');
    const b = applied(a, pod({ priority: 1 }), 'b');
    assert.deepEqual(entry(b, 'b')?.fieldsV1, { 'f:spec': { 'f:priority': {} } });
    const r = apply(b, pod({ priority: 2 }), 'b');
    assert.equal(applyConflictMessage(r.conflicts!), 'Apply failed with 1 conflict: conflict with "a": .spec.priority');
    // a stops applying priority: b still owns it, so it stays.
    const dropped = applied(b, pod({ containers: [container('nginx')] }), 'a');
    assert.equal(spec(dropped).priority, 1);
  });

  it('replaces atomic lists whole and owns them as one field', () => {
    const t = (key: string): JsonObject => ({ key, operator: 'Exists' });
    const live = applied(null, pod({ containers: [container('nginx')], tolerations: [t('a'), t('b')] }), 'kubectl');
    assert.deepEqual((entry(live, 'kubectl')?.fieldsV1['f:spec'] as JsonObject)['f:tolerations'], {});
    const next = applied(live, pod({ containers: [container('nginx')], tolerations: [t('c')] }), 'kubectl');
    assert.deepEqual(spec(next).tolerations, [t('c')]);
  });

  it('merges set items of different appliers', () => {
    const meta = (finalizers: string[]): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', finalizers },
    });
    const a = applied(null, meta(['x']), 'a');
    const b = applied(a, meta(['y']), 'b');
    assert.deepEqual((b.metadata as JsonObject).finalizers, ['x', 'y']);
    assert.deepEqual(entry(b, 'b')?.fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"y"': {} } } });
    const c = applied(b, meta([]), 'a');
    assert.deepEqual((c.metadata as JsonObject).finalizers, ['y']);
  });

  it('merges keyed lists in the config order, live-only items in place', () => {
    const live = created(pod({ containers: [{ name: 'a' }, { name: 'x' }, { name: 'b' }] }), 'create');
    const next = applied(
      live,
      pod({ containers: [{ name: 'b' }, { name: 'new' }, { name: 'a', image: 'i' }] }),
      'kubectl'
    );
    assert.deepEqual(
      (spec(next).containers as JsonObject[]).map((c) => c.name),
      ['x', 'b', 'new', 'a']
    );
  });

  it('keys service ports by port and protocol, defaulting the protocol to TCP', () => {
    const svcSchema = patchSchemaFor('v1', 'Service');
    const svc = (ports: JsonObject[]): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports },
    });
    const live = svc([
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { port: 53, protocol: 'UDP' },
    ]);
    const r = applyPatch({
      live,
      applied: svc([{ port: 80, targetPort: 8080 }]),
      manager: 'kubectl',
      force: false,
      schema: svcSchema,
      now: T1,
    });
    assert.deepEqual(spec(r.object!).ports, [
      { port: 80, protocol: 'TCP', targetPort: 8080 },
      { port: 53, protocol: 'UDP' },
    ]);
    assert.deepEqual(
      Object.keys((entry(r.object!, 'kubectl')?.fieldsV1['f:spec'] as JsonObject)['f:ports'] as JsonObject),
      ['k:{"port":80,"protocol":"TCP"}']
    );
  });

  it('removes a field set to null, conflicting if another manager owns it', () => {
    const live = created(pod({ containers: [container('nginx')], nodeName: 'n1' }), 'scheduler');
    const r = apply(live, pod({ nodeName: null }), 'kubectl');
    assert.deepEqual(
      r.conflicts?.map((c) => c.field),
      ['.spec.nodeName']
    );
    const forced = applied(live, pod({ nodeName: null }), 'kubectl', { force: true });
    assert.equal(spec(forced).nodeName, undefined);
  });

  it('does not own metadata.name and friends, nor status on the main resource', () => {
    const config = {
      ...pod({ containers: [container('nginx')] }, { namespace: 'ns', uid: 'u', resourceVersion: '1' }),
      status: { phase: 'Running' },
    };
    const object = applied(null, config, 'kubectl');
    const f = entry(object, 'kubectl')!.fieldsV1;
    assert.deepEqual(Object.keys(f), ['f:spec']);
  });

  it('owns only status through the status subresource', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'kubectl-create');
    const config = {
      ...pod({ containers: [container('nginx')] }),
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const next = applied(live, config, 'kubelet', { subresource: 'status' });
    assert.deepEqual(entry(next, 'kubelet'), {
      manager: 'kubelet',
      operation: 'Apply',
      apiVersion: 'v1',
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } },
      subresource: 'status',
    });
  });

  it('reports several conflicts grouped by manager', () => {
    const base = created(pod({ containers: [container('nginx')], priority: 1 }), 'kubectl-create');
    const withB = applied(base, pod({ hostname: 'h' }), 'b');
    const r = apply(withB, pod({ containers: [container('nginx:2')], priority: 2, hostname: 'x' }), 'kubectl');
    assert.equal(
      applyConflictMessage(r.conflicts!),
      [
        'Apply failed with 3 conflicts: conflicts with "b":',
        '- .spec.hostname',
        'conflicts with "kubectl-create" using v1:',
        '- .spec.containers[name="c"].image',
        '- .spec.priority',
      ].join('\n')
    );
    const status = newApplyConflict(r.conflicts!).status;
    assert.equal(status.code, 409);
    assert.equal(status.reason, 'Conflict');
    assert.deepEqual(status.details?.causes?.[0], {
      reason: 'FieldManagerConflict',
      message: 'conflict with "b"',
      field: '.spec.hostname',
    });
  });

  const rejects: { name: string; config: JsonObject; message: RegExp }[] = [
    {
      name: 'managedFields in the config',
      config: pod({}, { managedFields: [{ manager: 'x' }] }),
      message: /managedFields must be nil/,
    },
    { name: 'no apiVersion', config: { kind: 'Pod', metadata: { name: 'p' } }, message: /apiVersion and kind/ },
    {
      name: 'duplicate keys',
      config: pod({ containers: [container('a'), container('b')] }),
      message: /duplicate entries for key \.spec\.containers\[name="c"\]/,
    },
    {
      name: 'a keyed item without its key',
      config: pod({ containers: [{ image: 'x' }] }),
      message: /omits key field "name"/,
    },
    { name: 'an object in a set', config: pod({}, { finalizers: [{}] }), message: /set items must be primitives/ },
  ];
  for (const tc of rejects) {
    it(`rejects ${tc.name} with PatchError`, () => {
      assert.throws(
        () => apply(null, tc.config, 'kubectl'),
        (err: unknown) => err instanceof PatchError && tc.message.test(err.message)
      );
    });
  }
});

describe('updateManagedFields', () => {
  it('records a create as Update, with "." for maps and lists the write added', () => {
    const obj = pod({ containers: [container('nginx')] }, { labels: { run: 'p' } });
    assert.deepEqual(
      updateManagedFields({ live: null, updated: obj, manager: 'kubectl-run', schema, now: T0, operation: 'Update' }),
      [
        {
          manager: 'kubectl-run',
          operation: 'Update',
          apiVersion: 'v1',
          time: T0,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:run': {} } },
            'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      ]
    );
  });

  it('moves changed fields to the writer and drops removed fields from everyone', () => {
    const live = created(pod({ containers: [container('nginx')], priority: 1, hostname: 'h' }), 'create');
    const updated = pod({ containers: [container('nginx:2')], priority: 1 });
    const result = updateManagedFields({ live, updated, manager: 'kubectl-set', schema, now: T1 });
    const byManager = Object.fromEntries(result.map((e) => [e.manager, e.fieldsV1]));
    assert.deepEqual(byManager['kubectl-set'], {
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } },
    });
    assert.deepEqual(byManager.create, {
      'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:name': {} } }, 'f:priority': {} },
    });
  });

  it('adds no entry for a write that changes nothing', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'create');
    const result = updateManagedFields({ live, updated: live, manager: 'other', schema, now: T1 });
    assert.deepEqual(result, entries(live));
  });

  it('honours managedFields the client sends, and [{}] clears them', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'create');
    const cleared = { ...live, metadata: { name: 'p', managedFields: [{}] } };
    assert.deepEqual(updateManagedFields({ live, updated: cleared, manager: 'x', schema, now: T1 }), []);
  });

  it('falls back to the live managedFields when the sent ones do not decode', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'create');
    const garbage = { ...live, metadata: { name: 'p', managedFields: [{ operation: 'Bogus' }] } };
    assert.deepEqual(updateManagedFields({ live, updated: garbage, manager: 'x', schema, now: T1 }), entries(live));
  });
});

describe('updateManagedFields on objects it cannot walk', () => {
  it('drops managedFields instead of failing the write', () => {
    const live = created(pod({ containers: [container('nginx')] }), 'create');
    const broken = { ...live, spec: { containers: [{ image: 'no-name' }] } };
    assert.deepEqual(updateManagedFields({ live, updated: broken, manager: 'x', schema, now: T1 }), []);
  });
});

describe('applyConflictMessage', () => {
  it('names the subresource of a manager', () => {
    const c: ApplyConflict = {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      subresource: 'status',
      path: ['f:status'],
      field: '.status',
    };
    assert.equal(
      applyConflictMessage([c]),
      'Apply failed with 1 conflict: conflict with "kubelet" with subresource "status" using v1: .status'
    );
  });
});
