import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { aggregateClusterRole, aggregateClusterRoles, labelSelectorMatches } from './aggregation.js';
import { bootstrapClusterRoles } from './bootstrap-policy.js';

describe('aggregation - labelSelectorMatches', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: { name: string; sel: LabelSelector; want: boolean }[] = [
    { name: 'empty selector matches everything', sel: {}, want: true },
    { name: 'matchLabels hit', sel: { matchLabels: { app: 'web' } }, want: true },
    { name: 'matchLabels miss', sel: { matchLabels: { app: 'db' } }, want: false },
    { name: 'In', sel: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, want: true },
    {
      name: 'In on missing key',
      sel: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      want: false,
    },
    {
      name: 'NotIn on missing key',
      sel: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      want: true,
    },
    { name: 'NotIn hit', sel: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, want: false },
    { name: 'Exists', sel: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, want: true },
    { name: 'DoesNotExist', sel: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, want: false },
    { name: 'unknown operator', sel: { matchExpressions: [{ key: 'app', operator: 'Like' }] }, want: false },
    {
      name: 'labels and expressions are ANDed',
      sel: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] },
      want: false,
    },
  ];
  for (const tc of cases) test(tc.name, () => assert.equal(labelSelectorMatches(tc.sel, labels), tc.want));
});

const r = (verb: string, resource: string): PolicyRule => ({ verbs: [verb], apiGroups: [''], resources: [resource] });
const labelled = (name: string, labels: Record<string, string>, rules: PolicyRule[]): ClusterRole => ({
  metadata: { name, labels },
  rules,
});

describe('aggregation - aggregateClusterRole', () => {
  test('union of matching roles by name order, deduplicated, excluding itself and non-matching', () => {
    const agg: ClusterRole = {
      metadata: { name: 'agg', labels: { pick: 'true' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { pick: 'true' } }] },
      rules: [r('own', 'rule')],
    };
    const roles = [
      agg,
      labelled('zeta', { pick: 'true' }, [r('get', 'z'), r('get', 'a')]),
      labelled('alpha', { pick: 'true' }, [r('get', 'a')]),
      labelled('ignored', { pick: 'false' }, [r('get', 'i')]),
    ];
    assert.deepEqual(aggregateClusterRole(agg, roles), [r('get', 'a'), r('get', 'z')]);
  });
  test('missing and empty lists are the same rule', () => {
    const agg: ClusterRole = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{}] } };
    const roles = [
      agg,
      labelled('a', {}, [{ verbs: ['get'], resources: ['x'] }]),
      labelled('b', {}, [{ verbs: ['get'], resources: ['x'], apiGroups: [] }]),
    ];
    assert.equal(aggregateClusterRole(agg, roles).length, 1);
  });
  test('a role without aggregationRule keeps its rules', () => {
    const plain = labelled('plain', {}, [r('get', 'p')]);
    assert.deepEqual(aggregateClusterRole(plain, [plain]), [r('get', 'p')]);
  });
});

describe('aggregation - bootstrap admin/edit/view', () => {
  const roles = aggregateClusterRoles(bootstrapClusterRoles());
  const rulesOf = (name: string): PolicyRule[] => roles.find((x) => x.metadata?.name === name)?.rules ?? [];
  const keys = (rules: PolicyRule[]): Set<string> => new Set(rules.map((x) => JSON.stringify(x)));

  test('view is exactly system:aggregate-to-view', () => {
    assert.deepEqual(rulesOf('view'), rulesOf('system:aggregate-to-view'));
  });
  test('admin includes edit includes view', () => {
    const view = keys(rulesOf('view'));
    const edit = keys(rulesOf('edit'));
    const admin = keys(rulesOf('admin'));
    assert.ok(view.size > 0);
    for (const k of view) assert.ok(edit.has(k), `edit lacks ${k}`);
    for (const k of edit) assert.ok(admin.has(k), `admin lacks ${k}`);
    assert.ok(edit.size > view.size && admin.size > edit.size);
  });
  test('edit = aggregate-to-edit then view; admin = aggregate-to-admin then edit (by role name)', () => {
    assert.deepEqual(rulesOf('edit'), [...rulesOf('system:aggregate-to-edit'), ...rulesOf('view')]);
    assert.deepEqual(rulesOf('admin'), [...rulesOf('edit'), ...rulesOf('system:aggregate-to-admin')]);
  });
  test('input order does not matter and the input is untouched', () => {
    const input = bootstrapClusterRoles().reverse();
    const out = aggregateClusterRoles(input);
    assert.deepEqual(out.find((x) => x.metadata?.name === 'admin')?.rules, rulesOf('admin'));
    assert.deepEqual(input.find((x) => x.metadata?.name === 'admin')?.rules, []);
  });
  test('a cycle terminates', () => {
    const a: ClusterRole = {
      metadata: { name: 'a', labels: { b: 'true' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'true' } }] },
    };
    const b: ClusterRole = {
      metadata: { name: 'b', labels: { a: 'true' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { b: 'true' } }] },
    };
    const base = labelled('base', { a: 'true' }, [r('get', 'x')]);
    const out = aggregateClusterRoles([a, b, base]);
    assert.deepEqual(out.find((x) => x.metadata?.name === 'a')?.rules, [r('get', 'x')]);
    assert.deepEqual(out.find((x) => x.metadata?.name === 'b')?.rules, [r('get', 'x')]);
  });
});
