import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { aggregateClusterRoles } from './aggregation.js';
import { autoupdateAnnotation, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import type { Attributes, UserInfo } from './interface.js';
import { RBACAuthorizer } from './rbac.js';
import { staticRBACLister } from './testing.js';

const userBinding = (roleName: string, userName: string): RoleBinding => ({
  metadata: { namespace: 'team', name: `${userName}-${roleName}` },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: userName }],
});

const authorizer = new RBACAuthorizer(
  staticRBACLister({
    clusterRoles: aggregateClusterRoles(bootstrapClusterRoles()),
    clusterRoleBindings: bootstrapClusterRoleBindings(),
    roleBindings: [userBinding('view', 'viewer'), userBinding('edit', 'editor'), userBinding('admin', 'owner')],
  })
);

const authed = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function res(user: UserInfo, verb: string, gr: string, namespace = '', name = ''): Attributes {
  // `pods/log` or `rolebindings.rbac.authorization.k8s.io` style, split as request info does.
  const [resourcePart = '', sub = ''] = gr.split('/');
  const dot = resourcePart.indexOf('.');
  const resource = dot < 0 ? resourcePart : resourcePart.slice(0, dot);
  const apiGroup = dot < 0 ? '' : resourcePart.slice(dot + 1);
  return {
    user,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup,
    apiVersion: 'v1',
    resource,
    subresource: sub,
    namespace,
    name,
  };
}
function url(user: UserInfo, path: string, verb = 'get'): Attributes {
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

describe('bootstrap policy - decisions', () => {
  const cases: { name: string; a: Attributes; allow: boolean }[] = [
    // system:masters → cluster-admin: everything, resources and URLs.
    {
      name: 'masters delete nodes',
      a: res(authed('root', 'system:masters'), 'delete', 'nodes', '', 'n1'),
      allow: true,
    },
    {
      name: 'masters escalate clusterroles',
      a: res(authed('root', 'system:masters'), 'escalate', 'clusterroles.rbac.authorization.k8s.io'),
      allow: true,
    },
    { name: 'masters read any URL', a: url(authed('root', 'system:masters'), '/debug/pprof/heap'), allow: true },
    // system:authenticated: discovery, /version, self reviews — nothing else.
    { name: 'authenticated: /api', a: url(authed('x'), '/api'), allow: true },
    { name: 'authenticated: /apis/apps/v1', a: url(authed('x'), '/apis/apps/v1'), allow: true },
    { name: 'authenticated: /version', a: url(authed('x'), '/version'), allow: true },
    { name: 'authenticated: /openapi/v3', a: url(authed('x'), '/openapi/v3'), allow: true },
    {
      name: 'authenticated: selfsubjectaccessreviews',
      a: res(authed('x'), 'create', 'selfsubjectaccessreviews.authorization.k8s.io'),
      allow: true,
    },
    {
      name: 'authenticated: selfsubjectrulesreviews',
      a: res(authed('x'), 'create', 'selfsubjectrulesreviews.authorization.k8s.io'),
      allow: true,
    },
    {
      name: 'authenticated: selfsubjectreviews',
      a: res(authed('x'), 'create', 'selfsubjectreviews.authentication.k8s.io'),
      allow: true,
    },
    {
      name: 'authenticated: no subjectaccessreviews',
      a: res(authed('x'), 'create', 'subjectaccessreviews.authorization.k8s.io'),
      allow: false,
    },
    { name: 'authenticated: no pods', a: res(authed('x'), 'list', 'pods', 'team'), allow: false },
    { name: 'authenticated: no /metrics', a: url(authed('x'), '/metrics'), allow: false },
    { name: 'authenticated: discovery is read-only', a: url(authed('x'), '/api', 'post'), allow: false },
    // Unauthenticated: only the public info.
    { name: 'anonymous: /healthz', a: url(anonymous, '/healthz'), allow: true },
    { name: 'anonymous: /version', a: url(anonymous, '/version'), allow: true },
    { name: 'anonymous: no /api', a: url(anonymous, '/api'), allow: false },
    {
      name: 'anonymous: no self reviews',
      a: res(anonymous, 'create', 'selfsubjectaccessreviews.authorization.k8s.io'),
      allow: false,
    },
    // view / edit / admin, bound in namespace team.
    { name: 'view lists pods', a: res(authed('viewer'), 'list', 'pods', 'team'), allow: true },
    { name: 'view reads pod logs', a: res(authed('viewer'), 'get', 'pods/log', 'team', 'p'), allow: true },
    { name: 'view reads deployments', a: res(authed('viewer'), 'get', 'deployments.apps', 'team', 'd'), allow: true },
    { name: 'view cannot read secrets', a: res(authed('viewer'), 'get', 'secrets', 'team', 's'), allow: false },
    { name: 'view cannot list secrets', a: res(authed('viewer'), 'list', 'secrets', 'team'), allow: false },
    { name: 'view cannot exec', a: res(authed('viewer'), 'create', 'pods/exec', 'team', 'p'), allow: false },
    { name: 'view cannot create pods', a: res(authed('viewer'), 'create', 'pods', 'team'), allow: false },
    { name: 'view only in its namespace', a: res(authed('viewer'), 'list', 'pods', 'prod'), allow: false },
    { name: 'edit reads secrets', a: res(authed('editor'), 'get', 'secrets', 'team', 's'), allow: true },
    { name: 'edit creates pods', a: res(authed('editor'), 'create', 'pods', 'team'), allow: true },
    { name: 'edit execs', a: res(authed('editor'), 'create', 'pods/exec', 'team', 'p'), allow: true },
    { name: 'edit lists pods (from view)', a: res(authed('editor'), 'list', 'pods', 'team'), allow: true },
    {
      name: 'edit cannot create rolebindings',
      a: res(authed('editor'), 'create', 'rolebindings.rbac.authorization.k8s.io', 'team'),
      allow: false,
    },
    {
      name: 'edit cannot write resourcequotas',
      a: res(authed('editor'), 'update', 'resourcequotas', 'team', 'q'),
      allow: false,
    },
    {
      name: 'admin creates rolebindings',
      a: res(authed('owner'), 'create', 'rolebindings.rbac.authorization.k8s.io', 'team'),
      allow: true,
    },
    {
      name: 'admin creates roles',
      a: res(authed('owner'), 'create', 'roles.rbac.authorization.k8s.io', 'team'),
      allow: true,
    },
    { name: 'admin reads secrets (from edit)', a: res(authed('owner'), 'get', 'secrets', 'team', 's'), allow: true },
    {
      name: 'admin cannot create clusterroles',
      a: res(authed('owner'), 'create', 'clusterroles.rbac.authorization.k8s.io'),
      allow: false,
    },
    {
      name: 'admin cannot delete its namespace',
      a: res(authed('owner'), 'delete', 'namespaces', 'team', 'team'),
      allow: false,
    },
    // Component identities.
    {
      name: 'kube-proxy watches endpointslices',
      a: res(authed('system:kube-proxy'), 'watch', 'endpointslices.discovery.k8s.io'),
      allow: true,
    },
    {
      name: 'scheduler binds pods',
      a: res(authed('system:kube-scheduler'), 'create', 'pods/binding', 'team', 'p'),
      allow: true,
    },
    {
      name: 'controller-manager lists anything',
      a: res(authed('system:kube-controller-manager'), 'list', 'widgets.example.com'),
      allow: true,
    },
    { name: 'monitoring reads /metrics', a: url(authed('prom', 'system:monitoring'), '/metrics'), allow: true },
    {
      name: 'service accounts read the issuer',
      a: url(authed('system:serviceaccount:team:app', 'system:serviceaccounts'), '/openid/v1/jwks'),
      allow: true,
    },
    // system:node is not bound to system:nodes: the Node authorizer grants node access.
    {
      name: 'nodes get nothing from RBAC',
      a: res(authed('system:node:n1', 'system:nodes'), 'get', 'pods', 'team', 'p'),
      allow: false,
    },
  ];
  for (const tc of cases) {
    test(tc.name, async () =>
      assert.equal((await authorizer.authorize(tc.a)).decision, tc.allow ? 'allow' : 'noOpinion')
    );
  }

  test('masters are allowed by cluster-admin', async () => {
    const got = await authorizer.authorize(res(authed('root', 'system:masters'), 'get', 'pods', 'team', 'p'));
    assert.equal(
      got.reason,
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"'
    );
  });
});

describe('bootstrap policy - objects', () => {
  const roles = bootstrapClusterRoles();
  const bindings = bootstrapClusterRoleBindings();

  test('every object is labelled and annotated as bootstrap policy', () => {
    for (const o of [...roles, ...bindings]) {
      assert.equal(o.metadata?.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', o.metadata?.name);
      assert.equal(o.metadata?.annotations?.[autoupdateAnnotation], 'true', o.metadata?.name);
    }
  });
  test('names are unique and every binding refers to a bootstrap role', () => {
    const names = new Set(roles.map((r) => r.metadata?.name));
    assert.equal(names.size, roles.length);
    assert.equal(new Set(bindings.map((b) => b.metadata?.name)).size, bindings.length);
    for (const b of bindings) assert.ok(names.has(b.roleRef.name), b.roleRef.name);
  });
  test('the brief’s roles are all present', () => {
    const names = new Set(roles.map((r) => r.metadata?.name));
    for (const n of [
      'cluster-admin',
      'system:discovery',
      'system:basic-user',
      'system:public-info-viewer',
      'admin',
      'edit',
      'view',
      'system:aggregate-to-admin',
      'system:aggregate-to-edit',
      'system:aggregate-to-view',
      'system:node',
      'system:node-proxier',
      'system:kube-controller-manager',
      'system:kube-scheduler',
      'system:kubelet-api-admin',
      'system:node-bootstrapper',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
      'system:monitoring',
      'system:service-account-issuer-discovery',
    ])
      assert.ok(names.has(n), n);
  });
  test('verbs are sorted as upstream renders them', () => {
    for (const r of roles)
      for (const rule of r.rules ?? []) assert.deepEqual(rule.verbs, [...rule.verbs].sort(), r.metadata?.name);
  });
  test('each call returns fresh objects', () => {
    const a = bootstrapClusterRoles();
    for (const r of a) {
      r.metadata!.labels!['mutated'] = 'yes';
      for (const rule of r.rules ?? []) rule.verbs.push('mutated');
    }
    assert.deepEqual(bootstrapClusterRoles(), roles);
  });
});
