import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../resource.js';
import { clusterrolebindings } from './clusterrolebindings.js';
import { clusterroles } from './clusterroles.js';
import { rolebindings } from './rolebindings.js';
import { roles } from './roles.js';

const strings = (errs: { toString(): string }[] | undefined): string[] => (errs ?? []).map(String);

describe('rbac', () => {
  it('requires verbs and resources in rules', () => {
    assert.deepEqual(
      strings(
        roles.strategy.validate?.({
          rules: [
            { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
            { nonResourceURLs: ['/healthz'], verbs: ['get'] },
            {},
          ],
        })
      ),
      [
        'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
        'rules[2].verbs: Required value: verbs must contain at least one value',
        'rules[2].apiGroups: Required value: resource rules must supply at least one api group',
        'rules[2].resources: Required value: resource rules must supply at least one resource',
      ]
    );
    assert.deepEqual(
      clusterroles.strategy.validate?.({ rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }),
      []
    );
    assert.equal(roles.strategy.namePathSegmentOnly, true);
  });

  it('defaults apiGroups and validates bindings', () => {
    const b: KubeObject = {
      roleRef: { kind: 'ClusterRole', name: 'system:node' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'default' },
        { kind: 'Robot', name: 'r' },
      ],
    };
    clusterrolebindings.strategy.defaults?.(b);
    assert.deepEqual(b.roleRef, { kind: 'ClusterRole', name: 'system:node', apiGroup: 'rbac.authorization.k8s.io' });
    assert.deepEqual(
      (b.subjects as any[]).map((s) => s.apiGroup),
      ['rbac.authorization.k8s.io', '', 'rbac.authorization.k8s.io']
    );
    assert.deepEqual(strings(clusterrolebindings.strategy.validate?.(b)), [
      'subjects[1].namespace: Required value',
      'subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
    // In a RoleBinding a ServiceAccount subject may leave the namespace to the binding's.
    const rb: KubeObject = {
      roleRef: { kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'default' }],
    };
    rolebindings.strategy.defaults?.(rb);
    assert.deepEqual(rolebindings.strategy.validate?.(rb), []);
    assert.deepEqual(
      strings(clusterrolebindings.strategy.validate?.({ roleRef: { apiGroup: 'x', kind: 'Role', name: '' } })),
      [
        'roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        'roleRef.name: Required value',
      ]
    );
  });

  it('keeps roleRef fixed', () => {
    const old: KubeObject = { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'a' } };
    const next: KubeObject = { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'b' } };
    assert.deepEqual(strings(rolebindings.strategy.validateUpdate?.(next, old)), [
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"b"}: cannot change roleRef',
    ]);
  });
});
