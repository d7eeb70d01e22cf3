import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  Subject,
} from 'kubernetes-types/rbac/v1.js';
import type { Attributes, UserInfo } from './interface.js';
import { RBACAuthorizer, ruleAllows } from './rbac.js';
import { staticRBACLister } from './testing.js';

const rbac = 'rbac.authorization.k8s.io';
const user = (name: string): Subject => ({ apiGroup: rbac, kind: 'User', name });
const group = (name: string): Subject => ({ apiGroup: rbac, kind: 'Group', name });
const sa = (name: string, namespace?: string): Subject =>
  namespace ? { kind: 'ServiceAccount', name, namespace } : { kind: 'ServiceAccount', name };

const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ metadata: { name }, rules });
const role = (namespace: string, name: string, rules: PolicyRule[]): Role => ({ metadata: { namespace, name }, rules });
const crb = (name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding => ({
  metadata: { name },
  roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: roleName },
  subjects,
});
const rb = (namespace: string, name: string, kind: string, roleName: string, subjects: Subject[]): RoleBinding => ({
  metadata: { namespace, name },
  roleRef: { apiGroup: rbac, kind, name: roleName },
  subjects,
});

const policy = staticRBACLister({
  clusterRoles: [
    clusterRole('pod-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]),
    clusterRole('any-logs', [{ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }]),
    clusterRole('apps-all', [{ verbs: ['*'], apiGroups: ['apps'], resources: ['*'] }]),
    clusterRole('one-secret', [
      { verbs: ['get', 'update'], apiGroups: [''], resources: ['secrets'], resourceNames: ['db'] },
    ]),
    clusterRole('metrics', [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] }]),
    clusterRole('scale-only', [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }]),
  ],
  clusterRoleBindings: [
    crb('alice-pods', 'pod-reader', [user('alice')]),
    crb('ops-metrics', 'metrics', [group('ops')]),
    crb('dangling', 'no-such-role', [user('carol')]),
  ],
  roles: [role('team', 'cm-writer', [{ verbs: ['create', 'update'], apiGroups: [''], resources: ['configmaps'] }])],
  roleBindings: [
    rb('team', 'bob-cm', 'Role', 'cm-writer', [user('bob')]),
    rb('team', 'bob-apps', 'ClusterRole', 'apps-all', [user('bob')]),
    rb('team', 'builder-logs', 'ClusterRole', 'any-logs', [sa('builder')]),
    rb('team', 'remote-sa', 'ClusterRole', 'pod-reader', [sa('robot', 'ci')]),
    rb('team', 'db-secret', 'ClusterRole', 'one-secret', [group('db-admins')]),
    rb('team', 'scaler', 'ClusterRole', 'scale-only', [user('scaler')]),
    rb('other', 'bob-cm', 'Role', 'cm-writer', [user('bob')]),
  ],
});
const authorizer = new RBACAuthorizer(policy);

const u = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });

function res(user: UserInfo, verb: string, resource: string, namespace = '', name = '', apiGroup = ''): Attributes {
  const [r = '', sub = ''] = resource.split('/');
  return {
    user,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup,
    apiVersion: 'v1',
    resource: r,
    subresource: sub,
    namespace,
    name,
  };
}
function url(user: UserInfo, verb: string, path: string): Attributes {
  return {
    user,
    verb,
    resourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

describe('rbac - decisions', () => {
  const cases: { name: string; a: Attributes; allow: boolean }[] = [
    // Users, via a ClusterRoleBinding: any namespace and the cluster scope.
    {
      name: 'user bound cluster-wide lists pods in any namespace',
      a: res(u('alice'), 'list', 'pods', 'x'),
      allow: true,
    },
    { name: 'user bound cluster-wide lists pods across namespaces', a: res(u('alice'), 'list', 'pods'), allow: true },
    { name: 'verb not in rule', a: res(u('alice'), 'delete', 'pods', 'x', 'p'), allow: false },
    { name: 'resource not in rule', a: res(u('alice'), 'get', 'services', 'x', 's'), allow: false },
    { name: 'group not in rule', a: res(u('alice'), 'get', 'pods', 'x', 'p', 'apps'), allow: false },
    { name: 'subresource needs its own rule', a: res(u('alice'), 'get', 'pods/log', 'x', 'p'), allow: false },
    { name: 'another user gets nothing', a: res(u('mallory'), 'get', 'pods', 'x', 'p'), allow: false },
    // Roles via RoleBinding are scoped to that namespace, and so are ClusterRoles bound by a RoleBinding.
    { name: 'role in its namespace', a: res(u('bob'), 'create', 'configmaps', 'team'), allow: true },
    {
      name: 'role in another namespace with its own binding',
      a: res(u('bob'), 'update', 'configmaps', 'other', 'c'),
      allow: false,
    },
    {
      name: 'clusterrole via rolebinding in that namespace',
      a: res(u('bob'), 'delete', 'deployments', 'team', 'd', 'apps'),
      allow: true,
    },
    {
      name: 'clusterrole via rolebinding not elsewhere',
      a: res(u('bob'), 'delete', 'deployments', 'prod', 'd', 'apps'),
      allow: false,
    },
    {
      name: 'clusterrole via rolebinding not cluster-wide',
      a: res(u('bob'), 'list', 'deployments', '', '', 'apps'),
      allow: false,
    },
    // Wildcards.
    {
      name: '* resource covers subresources',
      a: res(u('bob'), 'update', 'deployments/scale', 'team', 'd', 'apps'),
      allow: true,
    },
    {
      name: '* verb covers custom verbs',
      a: res(u('bob'), 'escalate', 'statefulsets', 'team', 's', 'apps'),
      allow: true,
    },
    {
      name: 'resource/subresource rule',
      a: res(u('scaler'), 'update', 'deployments/scale', 'team', 'd', 'apps'),
      allow: true,
    },
    {
      name: 'resource/subresource rule not the parent',
      a: res(u('scaler'), 'update', 'deployments', 'team', 'd', 'apps'),
      allow: false,
    },
    // Service accounts: system:serviceaccount:<ns>:<name>, namespace defaulting to the binding's.
    {
      name: '*/log for a local service account',
      a: res(u('system:serviceaccount:team:builder'), 'get', 'pods/log', 'team', 'p'),
      allow: true,
    },
    {
      name: '*/subresource is not the parent',
      a: res(u('system:serviceaccount:team:builder'), 'get', 'pods', 'team', 'p'),
      allow: false,
    },
    {
      name: 'same SA name in another namespace',
      a: res(u('system:serviceaccount:other:builder'), 'get', 'pods/log', 'team', 'p'),
      allow: false,
    },
    {
      name: 'SA from another namespace, qualified',
      a: res(u('system:serviceaccount:ci:robot'), 'get', 'pods', 'team', 'p'),
      allow: true,
    },
    // Groups and resourceNames.
    { name: 'group member, named secret', a: res(u('dora', 'db-admins'), 'get', 'secrets', 'team', 'db'), allow: true },
    {
      name: 'group member, other secret',
      a: res(u('dora', 'db-admins'), 'get', 'secrets', 'team', 'web'),
      allow: false,
    },
    {
      name: 'resourceNames do not allow unnamed requests',
      a: res(u('dora', 'db-admins'), 'get', 'secrets', 'team'),
      allow: false,
    },
    { name: 'non-member', a: res(u('erin'), 'get', 'secrets', 'team', 'db'), allow: false },
    // Non-resource URLs.
    { name: 'exact URL', a: url(u('op', 'ops'), 'get', '/metrics'), allow: true },
    { name: 'prefix URL with *', a: url(u('op', 'ops'), 'get', '/logs/kube-apiserver.log'), allow: true },
    { name: 'prefix * matches the bare prefix', a: url(u('op', 'ops'), 'get', '/logs/'), allow: true },
    { name: 'prefix is not a path boundary', a: url(u('op', 'ops'), 'get', '/logs'), allow: false },
    { name: 'URL verb mismatch', a: url(u('op', 'ops'), 'post', '/metrics'), allow: false },
    { name: 'URL rules do not allow resources', a: res(u('op', 'ops'), 'get', 'metrics'), allow: false },
    { name: 'resource rules do not allow URLs', a: url(u('alice'), 'get', '/api/v1/pods'), allow: false },
  ];
  for (const tc of cases) {
    test(tc.name, async () => {
      const got = await authorizer.authorize(tc.a);
      assert.equal(got.decision, tc.allow ? 'allow' : 'noOpinion');
    });
  }
});

describe('rbac - reasons', () => {
  const cases: { name: string; a: Attributes; reason: string }[] = [
    {
      name: 'ClusterRoleBinding',
      a: res(u('alice'), 'get', 'pods', 'x', 'p'),
      reason: 'RBAC: allowed by ClusterRoleBinding "alice-pods" of ClusterRole "pod-reader" to User "alice"',
    },
    {
      name: 'RoleBinding of a Role',
      a: res(u('bob'), 'create', 'configmaps', 'team'),
      reason: 'RBAC: allowed by RoleBinding "bob-cm/team" of Role "cm-writer" to User "bob"',
    },
    {
      name: 'ServiceAccount shown as name/namespace',
      a: res(u('system:serviceaccount:team:builder'), 'get', 'pods/log', 'team', 'p'),
      reason:
        'RBAC: allowed by RoleBinding "builder-logs/team" of ClusterRole "any-logs" to ServiceAccount "builder/team"',
    },
    {
      name: 'Group',
      a: url(u('op', 'ops'), 'get', '/metrics'),
      reason: 'RBAC: allowed by ClusterRoleBinding "ops-metrics" of ClusterRole "metrics" to Group "ops"',
    },
    { name: 'no match has no reason', a: res(u('mallory'), 'get', 'pods', 'x', 'p'), reason: '' },
    {
      name: 'a dangling roleRef is reported, still noOpinion',
      a: res(u('carol'), 'get', 'pods', 'x', 'p'),
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found',
    },
  ];
  for (const tc of cases) test(tc.name, async () => assert.equal((await authorizer.authorize(tc.a)).reason, tc.reason));

  test('dangling binding does not hide a later allow', async () => {
    const both = new RBACAuthorizer(
      staticRBACLister({
        clusterRoles: [clusterRole('pod-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])],
        clusterRoleBindings: [crb('a', 'missing', [user('carol')]), crb('b', 'pod-reader', [user('carol')])],
      })
    );
    assert.equal((await both.authorize(res(u('carol'), 'get', 'pods', 'x', 'p'))).decision, 'allow');
  });
});

describe('rbac - rulesFor', () => {
  test('cluster and namespace bindings, split into resource and non-resource rules', () => {
    assert.deepEqual(authorizer.rulesFor(u('bob', 'ops'), 'team'), {
      resourceRules: [
        { verbs: ['create', 'update'], apiGroups: [''], resources: ['configmaps'] },
        { verbs: ['*'], apiGroups: ['apps'], resources: ['*'] },
      ],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] }],
      incomplete: false,
    });
  });
  test('without a namespace only cluster bindings count', () => {
    assert.deepEqual(authorizer.rulesFor(u('bob'), '').resourceRules, []);
  });
  test('resourceNames kept, resolution errors reported', () => {
    const got = authorizer.rulesFor(u('carol', 'db-admins'), 'team');
    assert.deepEqual(got.resourceRules, [
      { verbs: ['get', 'update'], apiGroups: [''], resources: ['secrets'], resourceNames: ['db'] },
    ]);
    assert.equal(got.evaluationError, 'clusterrole.rbac.authorization.k8s.io "no-such-role" not found');
  });
});

describe('rbac - ruleAllows', () => {
  test('an empty rule allows nothing', () => {
    assert.equal(ruleAllows(res(u('a'), 'get', 'pods'), { verbs: ['*'] }), false);
    assert.equal(ruleAllows(url(u('a'), 'get', '/x'), { verbs: ['*'] }), false);
  });
  test('* URL allows every path', () => {
    assert.equal(ruleAllows(url(u('a'), 'put', '/anything/at/all'), { verbs: ['*'], nonResourceURLs: ['*'] }), true);
  });
});
