import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from './json.js';
import { patchSchemaFor } from './merge-keys.js';
import { PatchError } from './patch-error.js';
import { strategicMergePatch } from './strategic-merge.js';

const pod = patchSchemaFor('v1', 'Pod');
const c = (name: string, extra: JsonObject = {}): JsonObject => ({ name, ...extra });
const podWith = (spec: JsonObject, metadata: JsonObject = { name: 'p' }): JsonObject => ({ metadata, spec });

interface Case {
  name: string;
  kind?: [string, string];
  original: JsonObject;
  patch: JsonObject;
  want: JsonObject;
}

// Behaviours from upstream's strategicpatch tests, the SMP design docs and the kubectl patch task page.
const cases: Case[] = [
  {
    name: 'maps merge recursively and null deletes a key',
    original: { metadata: { name: 'p', labels: { a: '1', b: '2' } } },
    patch: { metadata: { labels: { a: null, c: '3' } } },
    want: { metadata: { name: 'p', labels: { b: '2', c: '3' } } },
  },
  {
    name: 'containers merge by name',
    original: podWith({ containers: [c('a', { image: 'nginx:1' }), c('b', { image: 'redis' })] }),
    patch: { spec: { containers: [c('a', { image: 'nginx:2' })] } },
    want: podWith({ containers: [c('a', { image: 'nginx:2' }), c('b', { image: 'redis' })] }),
  },
  {
    name: 'a new container goes before the server-only ones (kubectl patch task page)',
    original: podWith({ containers: [c('patch-demo-ctr', { image: 'nginx' })] }),
    patch: { spec: { containers: [c('patch-demo-ctr-2', { image: 'redis' })] } },
    want: podWith({ containers: [c('patch-demo-ctr-2', { image: 'redis' }), c('patch-demo-ctr', { image: 'nginx' })] }),
  },
  {
    name: 'env merges by name inside a container',
    original: podWith({
      containers: [
        c('a', {
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
        }),
      ],
    }),
    patch: { spec: { containers: [c('a', { env: [{ name: 'Y', value: '3' }] })] } },
    want: podWith({
      containers: [
        c('a', {
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '3' },
          ],
        }),
      ],
    }),
  },
  {
    name: 'ports merge by containerPort',
    original: podWith({ containers: [c('a', { ports: [{ containerPort: 80, name: 'http' }] })] }),
    patch: { spec: { containers: [c('a', { ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] })] } },
    want: podWith({ containers: [c('a', { ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] })] }),
  },
  {
    name: '$patch: delete removes a list item by merge key',
    original: podWith({ containers: [c('a'), c('b'), c('c')] }),
    patch: { spec: { containers: [{ name: 'b', $patch: 'delete' }] } },
    want: podWith({ containers: [c('a'), c('c')] }),
  },
  {
    name: '$patch: replace in a list replaces the list',
    original: podWith({ containers: [c('a', { image: 'x' }), c('b')] }),
    patch: { spec: { containers: [{ $patch: 'replace' }, c('z', { image: 'y' })] } },
    want: podWith({ containers: [c('z', { image: 'y' })] }),
  },
  {
    name: '$patch: replace in a map replaces the map',
    original: podWith({ nodeSelector: { a: '1', b: '2' } }),
    patch: { spec: { nodeSelector: { $patch: 'replace', c: '3' } } },
    want: podWith({ nodeSelector: { c: '3' } }),
  },
  {
    name: '$patch: delete in a map empties it',
    original: podWith({ securityContext: { runAsUser: 1 }, nodeName: 'n' }),
    patch: { spec: { securityContext: { $patch: 'delete' } } },
    want: podWith({ securityContext: {}, nodeName: 'n' }),
  },
  {
    name: '$patch: merge in a map is the default',
    original: podWith({ nodeSelector: { a: '1' } }),
    patch: { spec: { nodeSelector: { $patch: 'merge', b: '2' } } },
    want: podWith({ nodeSelector: { a: '1', b: '2' } }),
  },
  {
    name: 'finalizers merge as a set, live items before the patch items that follow them',
    original: { metadata: { name: 'p', finalizers: ['a', 'b'] } },
    patch: { metadata: { finalizers: ['b', 'c'] } },
    want: { metadata: { name: 'p', finalizers: ['a', 'b', 'c'] } },
  },
  {
    name: 'a finalizer not yet present goes first when it leads the patch',
    original: { metadata: { name: 'p', finalizers: ['a'] } },
    patch: { metadata: { finalizers: ['z'] } },
    want: { metadata: { name: 'p', finalizers: ['z', 'a'] } },
  },
  {
    name: '$deleteFromPrimitiveList removes values from a merging primitive list',
    original: { metadata: { name: 'p', finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'x'] } },
    want: { metadata: { name: 'p', finalizers: ['a', 'c'] } },
  },
  {
    name: '$setElementOrder orders a merged list',
    original: podWith({ containers: [c('a'), c('b'), c('c')] }),
    patch: {
      spec: {
        '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }],
        containers: [c('a', { image: 'x' })],
      },
    },
    want: podWith({ containers: [c('c'), c('a', { image: 'x' }), c('b')] }),
  },
  {
    name: '$setElementOrder leaves server-only items in their live place',
    original: podWith({ containers: [c('a'), c('b'), c('x')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
    want: podWith({ containers: [c('b'), c('a'), c('x')] }),
  },
  {
    name: '$setElementOrder on a primitive merge list (design proposal example)',
    original: { metadata: { name: 'p', finalizers: ['b', 'c', 'a'] } },
    patch: { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'd'], finalizers: ['a', 'b', 'd'] } },
    want: { metadata: { name: 'p', finalizers: ['c', 'a', 'b', 'd'] } },
  },
  {
    name: '$retainKeys clears the fields of a volume it does not list',
    original: podWith({
      volumes: [
        { name: 'v', hostPath: { path: '/a' } },
        { name: 'w', emptyDir: {} },
      ],
    }),
    patch: { spec: { volumes: [{ name: 'v', emptyDir: {}, $retainKeys: ['emptyDir', 'name'] }] } },
    want: podWith({
      volumes: [
        { name: 'v', emptyDir: {} },
        { name: 'w', emptyDir: {} },
      ],
    }),
  },
  {
    name: 'lists without a merge key are replaced (tolerations)',
    original: podWith({ tolerations: [{ key: 'a', operator: 'Exists' }] }),
    patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
    want: podWith({ tolerations: [{ key: 'b', operator: 'Exists' }] }),
  },
  {
    name: 'primitive lists without merge strategy are replaced (args)',
    original: podWith({ containers: [c('a', { args: ['x', 'y'] })] }),
    patch: { spec: { containers: [c('a', { args: ['z'] })] } },
    want: podWith({ containers: [c('a', { args: ['z'] })] }),
  },
  {
    name: 'a value of another type replaces',
    original: { metadata: { name: 'p' }, data: { a: '1' } },
    patch: { data: 'x' },
    want: { metadata: { name: 'p' }, data: 'x' },
  },
  {
    name: 'directives are processed where the original has no value',
    original: podWith({}),
    patch: {
      spec: { containers: [c('a', { env: [{ name: 'X', $patch: 'delete' }] }), { name: 'gone', $patch: 'delete' }] },
    },
    want: podWith({ containers: [c('a', { env: [] })] }),
  },
  {
    name: 'owner references merge by uid',
    original: { metadata: { name: 'p', ownerReferences: [{ uid: '1', name: 'a' }] } },
    patch: {
      metadata: {
        ownerReferences: [
          { uid: '2', name: 'b' },
          { uid: '1', name: 'a2' },
        ],
      },
    },
    want: {
      metadata: {
        name: 'p',
        ownerReferences: [
          { uid: '2', name: 'b' },
          { uid: '1', name: 'a2' },
        ],
      },
    },
  },
  {
    name: 'pod status conditions merge by type',
    original: {
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    },
    patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    want: {
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    },
  },
  {
    name: 'service ports merge by port',
    kind: ['v1', 'Service'],
    original: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
    want: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
  },
  {
    name: 'node podCIDRs merge and addresses merge by type',
    kind: ['v1', 'Node'],
    original: { spec: { podCIDRs: ['10.0.0.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '1' }] } },
    patch: { spec: { podCIDRs: ['fd00::/64'] }, status: { addresses: [{ type: 'Hostname', address: 'n' }] } },
    want: {
      spec: { podCIDRs: ['fd00::/64', '10.0.0.0/24'] },
      status: {
        addresses: [
          { type: 'Hostname', address: 'n' },
          { type: 'InternalIP', address: '1' },
        ],
      },
    },
  },
  {
    name: 'deployment pod template containers merge by name',
    kind: ['apps/v1', 'Deployment'],
    original: { spec: { replicas: 1, template: { spec: { containers: [c('a', { image: '1' }), c('b')] } } } },
    patch: { spec: { replicas: 3, template: { spec: { containers: [c('a', { image: '2' })] } } } },
    want: { spec: { replicas: 3, template: { spec: { containers: [c('a', { image: '2' }), c('b')] } } } },
  },
  {
    name: 'cronjob job template reaches the pod spec',
    kind: ['batch/v1', 'CronJob'],
    original: { spec: { jobTemplate: { spec: { template: { spec: { containers: [c('a'), c('b')] } } } } } },
    patch: { spec: { jobTemplate: { spec: { template: { spec: { containers: [c('b', { image: 'x' })] } } } } } },
    want: { spec: { jobTemplate: { spec: { template: { spec: { containers: [c('a'), c('b', { image: 'x' })] } } } } } },
  },
  {
    name: 'unknown kinds merge maps and replace lists',
    kind: ['example.com/v1', 'Widget'],
    original: { metadata: { name: 'w', finalizers: ['a'] }, spec: { items: [{ name: 'a' }], size: 1 } },
    patch: { metadata: { finalizers: ['b'] }, spec: { items: [{ name: 'b' }] } },
    want: { metadata: { name: 'w', finalizers: ['b', 'a'] }, spec: { items: [{ name: 'b' }], size: 1 } },
  },
  {
    name: 'ServiceAccount secrets merge by name, imagePullSecrets replace (no patch tags upstream)',
    kind: ['v1', 'ServiceAccount'],
    original: { secrets: [{ name: 'a' }], imagePullSecrets: [{ name: 'x' }] },
    patch: { secrets: [{ name: 'b' }], imagePullSecrets: [{ name: 'y' }] },
    want: { secrets: [{ name: 'b' }, { name: 'a' }], imagePullSecrets: [{ name: 'y' }] },
  },
];

describe('strategicMergePatch', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const schema = tc.kind ? patchSchemaFor(...tc.kind) : pod;
      const original = structuredClone(tc.original);
      const patch = structuredClone(tc.patch);
      assert.deepEqual(strategicMergePatch(original, patch, schema), tc.want);
      assert.deepEqual(original, tc.original, 'the original is not modified');
      assert.deepEqual(patch, tc.patch, 'the patch is not modified');
    });
  }
});

describe('strategicMergePatch rejects malformed patches with PatchError', () => {
  const bad: { name: string; patch: unknown; code: number; message: RegExp }[] = [
    { name: 'a patch that is not an object', patch: [], code: 400, message: /invalid JSON document/ },
    {
      name: 'an unknown directive in a map',
      patch: { spec: { $patch: 'explode' } },
      code: 422,
      message: /unknown patch type: "explode"/,
    },
    {
      name: 'an unknown directive in a list',
      patch: { spec: { containers: [{ name: 'a', $patch: 'explode' }] } },
      code: 422,
      message: /unknown patch type/,
    },
    {
      name: '$patch: merge in a list',
      patch: { spec: { containers: [{ $patch: 'merge' }] } },
      code: 422,
      message: /merging lists cannot yet be specified/,
    },
    {
      name: 'a keyed list item without its merge key',
      patch: { spec: { containers: [{ image: 'x' }] } },
      code: 422,
      message: /does not contain declared merge key: name/,
    },
    {
      name: '$patch: delete without the merge key',
      patch: { spec: { containers: [{ $patch: 'delete' }] } },
      code: 422,
      message: /does not contain declared merge key: name/,
    },
    { name: '$retainKeys that is not a list', patch: { spec: { $retainKeys: 'x' } }, code: 400, message: /retainKeys/ },
    {
      name: 'a field not listed in $retainKeys',
      patch: { spec: { $retainKeys: ['a'], b: 1 } },
      code: 400,
      message: /retainKeys/,
    },
    {
      name: '$deleteFromPrimitiveList that is not a list',
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } },
      code: 400,
      message: /primitive list/,
    },
    {
      name: '$setElementOrder that is not a list',
      patch: { spec: { '$setElementOrder/containers': {} } },
      code: 400,
      message: /setElementOrder/,
    },
    {
      name: '$setElementOrder that disagrees with the patch list',
      patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [c('a'), c('b')] } },
      code: 400,
      message: /doesn't match \$setElementOrder/,
    },
    {
      name: 'a list of lists in a merging list',
      patch: { metadata: { finalizers: [['a']] } },
      code: 422,
      message: /lists of lists/,
    },
    {
      name: 'mixed element types in a merging list',
      patch: { metadata: { finalizers: [1] } },
      code: 422,
      message: /not identical/,
    },
  ];
  const original = podWith({ containers: [c('a'), c('b')] }, { name: 'p', finalizers: ['x'] });
  for (const tc of bad) {
    it(tc.name, () => {
      assert.throws(
        () => strategicMergePatch(original, tc.patch as object, pod),
        (err: unknown) => err instanceof PatchError && err.code === tc.code && tc.message.test(err.message)
      );
    });
  }

  it('becomes a Status the API server can return', () => {
    const status = new PatchError('invalid patch format of retainKeys', 400).toStatusError().status;
    assert.equal(status.code, 400);
    assert.equal(status.reason, 'BadRequest');
    assert.equal(new PatchError('x').toStatusError().status.reason, 'Invalid');
  });
});
