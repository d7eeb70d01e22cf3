import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { parseFieldSelector } from '../../api/selectors.js';
import type { Attributes, UserInfo } from './interface.js';
import { NodeAuthorizer, nodeIdentity } from './node.js';
import { NodeGraph } from './node-graph.js';

const node = (name: string): UserInfo => ({
  name: `system:node:${name}`,
  groups: ['system:nodes', 'system:authenticated'],
});

function res(
  user: UserInfo,
  verb: string,
  resource: string,
  namespace = '',
  name = '',
  extra: Partial<Attributes> = {}
): Attributes {
  const [gr = '', subresource = ''] = resource.split('/');
  const dot = gr.indexOf('.');
  return {
    user,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup: dot < 0 ? '' : gr.slice(dot + 1),
    apiVersion: 'v1',
    resource: dot < 0 ? gr : gr.slice(0, dot),
    subresource,
    namespace,
    name,
    ...extra,
  };
}

const pod = (name: string, nodeName: string | undefined, spec: Partial<NonNullable<Pod['spec']>> = {}): KubeObject => ({
  metadata: { namespace: 'default', name },
  spec: { nodeName, serviceAccountName: 'default', containers: [{ name: 'c', image: 'x' }], ...spec },
});

function newGraph(): NodeGraph {
  const g = new NodeGraph();
  g.replace([
    pod('web', 'n1', {
      imagePullSecrets: [{ name: 'pull' }],
      containers: [
        {
          name: 'c',
          image: 'x',
          env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }],
          envFrom: [{ configMapRef: { name: 'env-cm' } }],
        },
      ],
      volumes: [
        { name: 'v', secret: { secretName: 'vol-secret' } },
        { name: 'claim', persistentVolumeClaim: { claimName: 'data' } },
        {
          name: 'kube-api-access-abcde',
          projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }, { serviceAccountToken: { path: 't' } }] },
        },
      ],
    }),
    pod('db', 'n2', { volumes: [{ name: 'v', secret: { secretName: 'db-secret' } }], serviceAccountName: 'db' }),
    pod('pending', undefined, { volumes: [{ name: 'v', secret: { secretName: 'pending-secret' } }] }),
  ]);
  return g;
}

describe('node authorizer - identity', () => {
  test('only system:node:<name> in system:nodes is a node', () => {
    assert.equal(nodeIdentity(node('n1')), 'n1');
    assert.equal(nodeIdentity({ name: 'system:node:n1', groups: ['system:authenticated'] }), undefined);
    assert.equal(nodeIdentity({ name: 'alice', groups: ['system:nodes'] }), undefined);
    assert.equal(nodeIdentity({ name: 'system:node:', groups: ['system:nodes'] }), '');
  });
});

describe('node authorizer - decisions', () => {
  const authz = new NodeAuthorizer(newGraph());
  const n1 = node('n1');
  const byNodeName = (n: string): Attributes['fieldSelector'] =>
    parseFieldSelector(`spec.nodeName=${n}`, new Set(['spec.nodeName'])).requirements;
  const cases: { name: string; a: Attributes; allow: boolean; reason?: string }[] = [
    // Its own Node, not others.
    { name: 'get own node', a: res(n1, 'get', 'nodes', '', 'n1'), allow: true },
    { name: 'watch own node by name', a: res(n1, 'watch', 'nodes', '', 'n1'), allow: true },
    {
      name: 'get another node',
      a: res(n1, 'get', 'nodes', '', 'n2'),
      allow: false,
      reason: "node 'n1' cannot read 'n2', only its own Node object",
    },
    {
      name: 'list all nodes',
      a: res(n1, 'list', 'nodes'),
      allow: false,
      reason: "node 'n1' cannot read all nodes, only its own Node object",
    },
    { name: 'update node (narrowed by NodeRestriction)', a: res(n1, 'update', 'nodes', '', 'n2'), allow: true },
    { name: 'patch node status', a: res(n1, 'patch', 'nodes/status', '', 'n1'), allow: true },
    { name: 'delete node', a: res(n1, 'delete', 'nodes', '', 'n1'), allow: false },
    // Secrets and configmaps only through a bound pod, one name at a time.
    { name: 'get image pull secret', a: res(n1, 'get', 'secrets', 'default', 'pull'), allow: true },
    { name: 'get env secret', a: res(n1, 'get', 'secrets', 'default', 'env-secret'), allow: true },
    { name: 'watch volume secret by name', a: res(n1, 'watch', 'secrets', 'default', 'vol-secret'), allow: true },
    { name: 'get envFrom configmap', a: res(n1, 'get', 'configmaps', 'default', 'env-cm'), allow: true },
    { name: 'get projected configmap', a: res(n1, 'get', 'configmaps', 'default', 'kube-root-ca.crt'), allow: true },
    {
      name: "another node's pod's secret",
      a: res(n1, 'get', 'secrets', 'default', 'db-secret'),
      allow: false,
      reason: "no relationship found between node 'n1' and this object",
    },
    {
      name: "an unbound pod's secret",
      a: res(node('n2'), 'get', 'secrets', 'default', 'pending-secret'),
      allow: false,
    },
    { name: 'same name in another namespace', a: res(n1, 'get', 'secrets', 'other', 'pull'), allow: false },
    {
      name: 'list all secrets',
      a: res(n1, 'list', 'secrets', 'default'),
      allow: false,
      reason: 'No Object name found',
    },
    {
      name: 'update a referenced secret',
      a: res(n1, 'update', 'secrets', 'default', 'pull'),
      allow: false,
      reason: 'can only read resources of this type',
    },
    { name: 'get a referenced claim', a: res(n1, 'get', 'persistentvolumeclaims', 'default', 'data'), allow: true },
    { name: 'list claims', a: res(n1, 'list', 'persistentvolumeclaims', 'default'), allow: false },
    // Pods: its own by name or by the spec.nodeName selector.
    { name: 'get a bound pod', a: res(n1, 'get', 'pods', 'default', 'web'), allow: true },
    { name: "get another node's pod", a: res(n1, 'get', 'pods', 'default', 'db'), allow: false },
    {
      name: 'list pods on itself',
      a: res(n1, 'list', 'pods', '', '', { fieldSelector: byNodeName('n1') }),
      allow: true,
    },
    {
      name: 'watch pods on another node',
      a: res(n1, 'watch', 'pods', '', '', { fieldSelector: byNodeName('n2') }),
      allow: false,
      reason: 'can only list/watch pods with spec.nodeName field selector',
    },
    { name: 'list all pods', a: res(n1, 'list', 'pods'), allow: false },
    { name: 'update pod status', a: res(n1, 'update', 'pods/status', 'default', 'web'), allow: true },
    { name: 'create a (mirror) pod', a: res(n1, 'create', 'pods', 'default'), allow: true },
    { name: 'update a pod spec', a: res(n1, 'update', 'pods', 'default', 'web'), allow: false },
    { name: 'exec into a pod', a: res(n1, 'create', 'pods/exec', 'default', 'web'), allow: false },
    // Service account tokens for its pods' accounts.
    { name: 'token for a used SA', a: res(n1, 'create', 'serviceaccounts/token', 'default', 'default'), allow: true },
    {
      name: "token for another node's SA",
      a: res(n1, 'create', 'serviceaccounts/token', 'default', 'db'),
      allow: false,
    },
    {
      name: 'read a service account',
      a: res(n1, 'get', 'serviceaccounts', 'default', 'default'),
      allow: false,
      reason: 'can only create tokens for individual service accounts',
    },
    // Leases: its own, in kube-node-lease.
    {
      name: 'update own lease',
      a: res(n1, 'update', 'leases.coordination.k8s.io', 'kube-node-lease', 'n1'),
      allow: true,
    },
    { name: 'create a lease', a: res(n1, 'create', 'leases.coordination.k8s.io', 'kube-node-lease'), allow: true },
    {
      name: "another node's lease",
      a: res(n1, 'update', 'leases.coordination.k8s.io', 'kube-node-lease', 'n2'),
      allow: false,
      reason: 'can only access node lease with the same name as the requesting node',
    },
    {
      name: 'own name elsewhere',
      a: res(n1, 'get', 'leases.coordination.k8s.io', 'kube-system', 'n1'),
      allow: false,
      reason: 'can only access leases in the "kube-node-lease" system namespace',
    },
    // The static rules: CSRs, events, services; nothing else.
    { name: 'create a CSR', a: res(n1, 'create', 'certificatesigningrequests.certificates.k8s.io'), allow: true },
    { name: 'watch CSRs', a: res(n1, 'watch', 'certificatesigningrequests.certificates.k8s.io'), allow: true },
    { name: 'create an event', a: res(n1, 'create', 'events', 'default'), allow: true },
    { name: 'list services', a: res(n1, 'list', 'services'), allow: true },
    { name: 'list namespaces', a: res(n1, 'list', 'namespaces'), allow: false },
    {
      name: 'delete a CSR',
      a: res(n1, 'delete', 'certificatesigningrequests.certificates.k8s.io', '', 'x'),
      allow: false,
    },
    { name: 'read clusterroles', a: res(n1, 'get', 'clusterroles.rbac.authorization.k8s.io', '', 'x'), allow: false },
  ];
  for (const tc of cases) {
    test(tc.name, async () => {
      const got = await authz.authorize(tc.a);
      assert.equal(got.decision, tc.allow ? 'allow' : 'noOpinion');
      if (tc.reason !== undefined) assert.equal(got.reason, tc.reason);
    });
  }
  test('not a node: no opinion, no reason', async () => {
    const alice = { name: 'alice', groups: ['system:authenticated'] };
    assert.deepEqual(await authz.authorize(res(alice, 'get', 'secrets', 'default', 'pull')), {
      decision: 'noOpinion',
      reason: '',
    });
  });
  test('an unnamed node is refused with a reason', async () => {
    const got = await authz.authorize(res(node(''), 'get', 'nodes', '', ''));
    assert.deepEqual(got, { decision: 'noOpinion', reason: 'unknown node for user "system:node:"' });
  });
  test('rules review: incomplete for nodes, empty for others', () => {
    assert.equal(authz.rulesFor(n1).incomplete, true);
    assert.equal(authz.rulesFor(n1).evaluationError, 'node authorizer does not support user rule resolution');
    assert.equal(authz.rulesFor({ name: 'alice', groups: [] }).incomplete, false);
  });
});

describe('node graph - changes', () => {
  test('binding, re-binding and deleting a pod move its references', () => {
    const g = new NodeGraph();
    const p = pod('p', undefined, { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
    g.upsert(p);
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), false);
    g.upsert({ ...p, spec: { ...(p.spec as object), nodeName: 'n1' } });
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), true);
    assert.equal(g.hasPathFrom('n1', 'pod', 'default', 'p'), true);
    g.upsert({ ...p, spec: { ...(p.spec as object), nodeName: 'n2' } });
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), false);
    assert.equal(g.hasPathFrom('n2', 'secret', 'default', 's'), true);
    g.remove(p);
    assert.equal(g.hasPathFrom('n2', 'secret', 'default', 's'), false);
  });
  test('a secret named by two pods stays reachable until both are gone', () => {
    const g = new NodeGraph();
    const a = pod('a', 'n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
    const b = pod('b', 'n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
    g.upsert(a);
    g.upsert(b);
    g.remove(a);
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), true);
    g.remove(b);
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), false);
  });
  test('a mirror pod grants only itself', () => {
    const g = new NodeGraph();
    const m = pod('static', 'n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
    m.metadata!.annotations = { 'kubernetes.io/config.mirror': 'hash' };
    g.upsert(m);
    assert.equal(g.hasPathFrom('n1', 'pod', 'default', 'static'), true);
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 's'), false);
    assert.equal(g.hasPathFrom('n1', 'serviceaccount', 'default', 'default'), false);
  });
  test('replace starts over', () => {
    const g = newGraph();
    g.replace([]);
    assert.equal(g.hasPathFrom('n1', 'secret', 'default', 'pull'), false);
  });
});
