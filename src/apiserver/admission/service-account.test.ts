import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import { pods } from '../../api/resources/core/pods.js';
import type { AdmissionAttributes } from './interface.js';
import { serviceAccountAdmission } from './service-account.js';

const accounts = new Map<string, KubeObject>([
  ['default/default', { metadata: { namespace: 'default', name: 'default' } }],
  ['default/quiet', { metadata: { namespace: 'default', name: 'quiet' }, automountServiceAccountToken: false }],
  [
    'default/strict',
    {
      metadata: {
        namespace: 'default',
        name: 'strict',
        annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' },
      },
      secrets: [{ name: 'allowed' }],
    },
  ],
  ['default/puller', { metadata: { namespace: 'default', name: 'puller' }, imagePullSecrets: [{ name: 'registry' }] }],
]);
let lookups = 0;
const plugin = serviceAccountAdmission({
  getServiceAccount: async (ns, name) => {
    lookups++;
    return accounts.get(`${ns}/${name}`);
  },
  retryDelayMs: () => 0,
});

function create(spec: Partial<NonNullable<Pod['spec']>>, namespace = 'default', annotations?: Record<string, string>) {
  const pod: Pod = {
    metadata: { namespace, name: 'p', annotations },
    spec: { containers: [{ name: 'main', image: 'x' }], ...spec },
  };
  const a: AdmissionAttributes = {
    operation: 'CREATE',
    def: pods,
    subresource: '',
    namespace,
    name: 'p',
    object: pod as KubeObject,
    dryRun: false,
  };
  return { pod, a, run: async () => (await plugin.admit!(a), await plugin.validate!(a)) };
}

describe('ServiceAccount admission', () => {
  test('defaults the account and injects the projected volume into every container', async () => {
    const { pod, run } = create({
      initContainers: [{ name: 'init', image: 'x' }],
      containers: [
        { name: 'a', image: 'x' },
        { name: 'b', image: 'x' },
      ],
    });
    await run();
    assert.equal(pod.spec!.serviceAccountName, 'default');
    const volume = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected, {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    });
    for (const c of [...pod.spec!.initContainers!, ...pod.spec!.containers])
      assert.deepEqual(c.volumeMounts, [
        { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
      ]);
  });

  test('automountServiceAccountToken: false on the pod, or on the account, is honoured; the pod wins', async () => {
    const onPod = create({ automountServiceAccountToken: false });
    await onPod.run();
    assert.equal(onPod.pod.spec!.volumes, undefined);
    const onAccount = create({ serviceAccountName: 'quiet' });
    await onAccount.run();
    assert.equal(onAccount.pod.spec!.volumes, undefined);
    const podOverrides = create({ serviceAccountName: 'quiet', automountServiceAccountToken: true });
    await podOverrides.run();
    assert.equal(podOverrides.pod.spec!.volumes?.length, 1);
  });

  test('a container that already mounts the path, and an existing kube-api-access volume, are kept', async () => {
    const { pod, run } = create({
      volumes: [{ name: 'kube-api-access-mine', emptyDir: {} }],
      containers: [
        {
          name: 'own',
          image: 'x',
          volumeMounts: [{ name: 'x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
        { name: 'plain', image: 'x' },
      ],
    });
    await run();
    assert.deepEqual(
      pod.spec!.volumes!.map((v) => v.name),
      ['kube-api-access-mine']
    );
    assert.equal(pod.spec!.containers[0]!.volumeMounts!.length, 1);
    assert.equal(pod.spec!.containers[1]!.volumeMounts![0]!.name, 'kube-api-access-mine');
  });

  test("the account's image pull secrets are copied when the pod has none", async () => {
    const { pod, run } = create({ serviceAccountName: 'puller' });
    await run();
    assert.deepEqual(pod.spec!.imagePullSecrets, [{ name: 'registry' }]);
  });

  test('an account enforcing mountable secrets limits the secrets its pods name', async () => {
    await create({ serviceAccountName: 'strict', volumes: [{ name: 'v', secret: { secretName: 'allowed' } }] }).run();
    await assert.rejects(
      create({ serviceAccountName: 'strict', volumes: [{ name: 'v', secret: { secretName: 'other' } }] }).run(),
      /volume with secret.secretName="other" is not allowed because service account strict does not reference that secret/
    );
    await assert.rejects(
      create({
        serviceAccountName: 'strict',
        containers: [
          { name: 'c', image: 'x', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'other', key: 'k' } } }] },
        ],
      }).run(),
      /container c with envVar P referencing secret.secretName="other" is not allowed/
    );
    await assert.rejects(
      create({ serviceAccountName: 'strict', imagePullSecrets: [{ name: 'reg' }] }).run(),
      /imagePullSecrets\[0\].name="reg" is not allowed because service account strict does not reference that imagePullSecret/
    );
    // Without the annotation anything goes.
    await create({ volumes: [{ name: 'v', secret: { secretName: 'other' } }] }).run();
  });

  test('a missing account is refused; default is retried (the controller may be creating it)', async () => {
    lookups = 0;
    const missing = create({ serviceAccountName: 'ghost' });
    await assert.rejects(missing.run(), (err: StatusError) => {
      assert.equal(err.code, 403);
      assert.equal(
        err.message,
        'pods "p" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found'
      );
      return true;
    });
    assert.equal(lookups, 1);
    lookups = 0;
    await assert.rejects(create({}, 'empty').run(), /error looking up service account empty\/default/);
    assert.equal(lookups, 10);
  });

  test('mirror pods are not mutated and may not name accounts or secrets', async () => {
    const mirror = { 'kubernetes.io/config.mirror': 'abc' };
    const plain = create({}, 'default', mirror);
    await plain.run();
    assert.equal(plain.pod.spec!.serviceAccountName, undefined);
    assert.equal(plain.pod.spec!.volumes, undefined);
    await assert.rejects(
      create({ serviceAccountName: 'default' }, 'default', mirror).run(),
      /a mirror pod may not reference service accounts/
    );
    await assert.rejects(
      create({ volumes: [{ name: 's', secret: { secretName: 'x' } }] }, 'default', mirror).run(),
      /a mirror pod may not reference secrets/
    );
  });

  test('only pod creates are touched', async () => {
    const { a, pod } = create({});
    await plugin.admit!({ ...a, operation: 'UPDATE' });
    await plugin.admit!({ ...a, subresource: 'status' });
    assert.equal(pod.spec!.serviceAccountName, undefined);
  });
});
