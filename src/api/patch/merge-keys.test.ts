import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patchSchemaFor, type PatchField, type PatchSchema } from './merge-keys.js';

/** The metadata at a dotted path; `[]` steps into list items. */
function fieldAt(schema: PatchSchema, path: string): PatchField | undefined {
  let field: PatchField | undefined = { fields: schema };
  for (const name of path.split('.')) field = name === '[]' ? field : field?.fields?.[name];
  return field;
}

// Expected values copied from the struct tags and list annotations of k8s.io/api core/v1, apps/v1, batch/v1
// and apimachinery's ObjectMeta.
const cases: [string, string, string, Partial<PatchField> | undefined][] = [
  ['v1', 'ConfigMap', 'metadata.finalizers', { patchStrategy: 'merge', listType: 'set' }],
  ['v1', 'Secret', 'metadata.ownerReferences', { patchStrategy: 'merge', patchMergeKey: 'uid', listMapKeys: ['uid'] }],
  ['v1', 'Pod', 'spec.containers', { patchMergeKey: 'name', listType: 'map' }],
  ['v1', 'Pod', 'spec.containers.env', { patchMergeKey: 'name' }],
  [
    'v1',
    'Pod',
    'spec.initContainers.ports',
    { patchMergeKey: 'containerPort', listMapKeys: ['containerPort', 'protocol'] },
  ],
  ['v1', 'Pod', 'spec.ephemeralContainers.volumeMounts', { patchMergeKey: 'mountPath' }],
  ['v1', 'Pod', 'spec.containers.volumeDevices', { patchMergeKey: 'devicePath' }],
  ['v1', 'Pod', 'spec.containers.envFrom', undefined],
  ['v1', 'Pod', 'spec.volumes', { patchMergeKey: 'name', retainKeys: true }],
  ['v1', 'Pod', 'spec.tolerations', undefined],
  ['v1', 'Pod', 'spec.hostAliases', { patchMergeKey: 'ip' }],
  [
    'v1',
    'Pod',
    'spec.topologySpreadConstraints',
    { patchMergeKey: 'topologyKey', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  ],
  ['v1', 'Pod', 'spec.schedulingGates', { patchMergeKey: 'name' }],
  ['v1', 'Pod', 'spec.resourceClaims', { patchMergeKey: 'name', retainKeys: true }],
  ['v1', 'Pod', 'status.conditions', { patchMergeKey: 'type' }],
  ['v1', 'Pod', 'status.containerStatuses', undefined],
  ['v1', 'Pod', 'status.hostIPs', { patchMergeKey: 'ip', listType: undefined }],
  [
    'v1',
    'Service',
    'spec.ports',
    { patchMergeKey: 'port', listMapKeys: ['port', 'protocol'], listMapKeyDefaults: { protocol: 'TCP' } },
  ],
  ['v1', 'Node', 'spec.podCIDRs', { patchStrategy: 'merge', listType: 'set' }],
  ['v1', 'Node', 'spec.taints', undefined],
  ['v1', 'Node', 'status.addresses', { patchMergeKey: 'type' }],
  ['v1', 'ServiceAccount', 'secrets', { patchMergeKey: 'name' }],
  ['v1', 'ServiceAccount', 'imagePullSecrets', undefined],
  ['v1', 'Endpoints', 'subsets', undefined],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'endpoints', undefined],
  ['apps/v1', 'Deployment', 'spec.template.spec.containers.env', { patchMergeKey: 'name' }],
  ['apps/v1', 'Deployment', 'status.conditions', { patchMergeKey: 'type' }],
  ['apps/v1', 'StatefulSet', 'spec.template.metadata.finalizers', { listType: 'set' }],
  ['batch/v1', 'Job', 'status.conditions', { patchMergeKey: 'type', listType: undefined }],
  ['batch/v1', 'CronJob', 'spec.jobTemplate.spec.template.spec.containers', { patchMergeKey: 'name' }],
  [
    'certificates.k8s.io/v1',
    'CertificateSigningRequest',
    'status.conditions',
    { patchStrategy: undefined, listType: 'map' },
  ],
  ['example.com/v1', 'Widget', 'spec.items', undefined],
  ['example.com/v1', 'Widget', 'metadata.finalizers', { listType: 'set' }],
];

describe('patchSchemaFor', () => {
  for (const [apiVersion, kind, path, want] of cases) {
    it(`${kind} ${path}`, () => {
      const field = fieldAt(patchSchemaFor(apiVersion, kind), path);
      if (want === undefined) {
        assert.equal(field?.patchStrategy, undefined, 'replaced by SMP');
        assert.equal(field?.listType, undefined, 'atomic for SSA');
        return;
      }
      for (const [k, v] of Object.entries(want)) assert.deepEqual(field?.[k as keyof PatchField], v, k);
    });
  }

  it('returns the same schema for every version of a kind', () => {
    assert.equal(patchSchemaFor('apps/v1', 'Deployment'), patchSchemaFor('apps/v1beta2', 'Deployment'));
    assert.notEqual(patchSchemaFor('v1', 'Pod'), patchSchemaFor('v1', 'ConfigMap'));
  });
});
