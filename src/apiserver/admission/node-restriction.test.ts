import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { leases } from '../../api/resources/coordination.k8s.io/leases.js';
import { nodes } from '../../api/resources/core/nodes.js';
import { pods } from '../../api/resources/core/pods.js';
import { secrets } from '../../api/resources/core/secrets.js';
import { serviceaccounts } from '../../api/resources/core/serviceaccounts.js';
import type { UserInfo } from '../authz/interface.js';
import type { AdmissionAttributes } from './interface.js';
import { forbiddenNodeLabels, nodeRestriction } from './node-restriction.js';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const admin: UserInfo = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

const livePods = new Map<string, KubeObject>([
  ['default/mine', { metadata: { name: 'mine', namespace: 'default', uid: 'u-mine' }, spec: { nodeName: 'n1' } }],
  ['default/theirs', { metadata: { name: 'theirs', namespace: 'default', uid: 'u-theirs' }, spec: { nodeName: 'n2' } }],
]);
const plugin = nodeRestriction({
  getPod: async (ns, name) => livePods.get(`${ns}/${name}`),
  getNode: async (name) => (name === 'n1' ? { metadata: { name: 'n1', uid: 'node-uid' } } : undefined),
});

function attrs(
  operation: AdmissionAttributes['operation'],
  def: ResourceDef,
  o: Partial<AdmissionAttributes> = {}
): AdmissionAttributes {
  return { operation, def, subresource: '', namespace: '', name: '', user: n1, dryRun: false, ...o };
}

const mirrorPod = (overrides: Record<string, unknown> = {}): KubeObject => ({
  metadata: {
    name: 'static-n1',
    namespace: 'default',
    annotations: { 'kubernetes.io/config.mirror': 'hash' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }],
  },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }], ...overrides },
});

const node = (labels: Record<string, string>, taints: unknown[] = []): KubeObject => ({
  metadata: { name: 'n1', labels },
  spec: { taints },
});

async function refused(a: AdmissionAttributes, message: RegExp): Promise<void> {
  await assert.rejects(plugin.validate!(a), (err: Error & { code?: number }) => {
    assert.equal(err.code, 403);
    assert.match(err.message, message);
    return true;
  });
}

describe('NodeRestriction - nodes', () => {
  test('its own Node may be created and updated', async () => {
    await plugin.validate!(attrs('CREATE', nodes, { name: 'n1', object: node({ 'kubernetes.io/hostname': 'n1' }) }));
    const old = node({ 'kubernetes.io/os': 'linux' });
    const next = node({ 'kubernetes.io/os': 'linux', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    await plugin.validate!(attrs('UPDATE', nodes, { name: 'n1', object: next, oldObject: old }));
    await plugin.validate!(attrs('UPDATE', nodes, { name: 'n1', subresource: 'status', object: old, oldObject: old }));
  });
  test('another Node may not be touched at all', async () => {
    await refused(
      attrs('UPDATE', nodes, { name: 'n2', object: node({}), oldObject: node({}) }),
      /node "n1" is not allowed to modify node "n2"/
    );
    await refused(attrs('DELETE', nodes, { name: 'n2', oldObject: node({}) }), /not allowed to modify node "n2"/);
    await refused(
      attrs('CREATE', nodes, { name: 'n2', object: { metadata: { name: 'n2' } } }),
      /not allowed to modify node "n2"/
    );
  });
  test('restricted labels and taints are refused', async () => {
    await refused(
      attrs('CREATE', nodes, { name: 'n1', object: node({ 'node-restriction.kubernetes.io/trusted': 'yes' }) }),
      /not allowed to set the following labels: node-restriction.kubernetes.io\/trusted/
    );
    await refused(
      attrs('UPDATE', nodes, {
        name: 'n1',
        object: node({ 'node-role.kubernetes.io/control-plane': '' }),
        oldObject: node({}),
      }),
      /is not allowed to modify labels: node-role.kubernetes.io\/control-plane/
    );
    await refused(
      attrs('UPDATE', nodes, {
        name: 'n1',
        object: node({}, []),
        oldObject: node({}, [{ key: 'dedicated', effect: 'NoSchedule' }]),
      }),
      /node "n1" is not allowed to modify taints/
    );
  });
  test('the label rules follow upstream', () => {
    assert.deepEqual(
      forbiddenNodeLabels({
        'kubernetes.io/hostname': 'n1',
        'topology.kubernetes.io/zone': 'a',
        'kubelet.kubernetes.io/x': '1',
        'foo.node.kubernetes.io/x': '1',
        'example.com/team': 'a',
        'k8s.io/x': '1',
        'sub.k8s.io/y': '1',
        'kubernetes.io/role': 'admin',
        'a.node-restriction.kubernetes.io/z': '1',
      }),
      ['a.node-restriction.kubernetes.io/z', 'k8s.io/x', 'kubernetes.io/role', 'sub.k8s.io/y']
    );
    // Unchanged labels are not judged; removing one is a change.
    assert.deepEqual(forbiddenNodeLabels({ 'kubernetes.io/role': 'x' }, { 'kubernetes.io/role': 'x' }), []);
    assert.deepEqual(forbiddenNodeLabels({}, { 'kubernetes.io/role': 'x' }), ['kubernetes.io/role']);
  });
});

describe('NodeRestriction - pods', () => {
  test('a mirror pod of itself may be created', async () => {
    await plugin.validate!(attrs('CREATE', pods, { namespace: 'default', name: 'static-n1', object: mirrorPod() }));
  });
  test('anything but a proper mirror pod is refused', async () => {
    const plain = mirrorPod();
    delete plain.metadata!.annotations;
    await refused(
      attrs('CREATE', pods, { namespace: 'default', object: plain }),
      /node "n1" can only create mirror pods/
    );
    await refused(
      attrs('CREATE', pods, { namespace: 'default', object: mirrorPod({ nodeName: 'n2' }) }),
      /can only create pods with spec.nodeName set to itself/
    );
    const wrongUID = mirrorPod();
    (wrongUID.metadata!.ownerReferences![0] as { uid: string }).uid = 'other';
    await refused(attrs('CREATE', pods, { namespace: 'default', object: wrongUID }), /node n1 UID mismatch/);
    await refused(
      attrs('CREATE', pods, { namespace: 'default', object: mirrorPod({ serviceAccountName: 'default' }) }),
      /can not create pods that reference a service account/
    );
    await refused(
      attrs('CREATE', pods, {
        namespace: 'default',
        object: mirrorPod({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }),
      }),
      /can not create pods that reference secrets/
    );
    await refused(
      attrs('CREATE', pods, {
        namespace: 'default',
        object: mirrorPod({ volumes: [{ name: 'v', configMap: { name: 'c' } }] }),
      }),
      /can not create pods that reference configmaps/
    );
  });
  test('only its own pods may be deleted', async () => {
    await plugin.validate!(
      attrs('DELETE', pods, { namespace: 'default', name: 'mine', oldObject: livePods.get('default/mine') })
    );
    await refused(
      attrs('DELETE', pods, { namespace: 'default', name: 'theirs', oldObject: livePods.get('default/theirs') }),
      /node "n1" can only delete pods with spec.nodeName set to itself/
    );
  });
  test('status only of its own pods, without label changes; no spec updates', async () => {
    const mine = livePods.get('default/mine')!;
    await plugin.validate!(
      attrs('UPDATE', pods, {
        namespace: 'default',
        name: 'mine',
        subresource: 'status',
        object: mine,
        oldObject: mine,
      })
    );
    const theirs = livePods.get('default/theirs')!;
    await refused(
      attrs('UPDATE', pods, {
        namespace: 'default',
        name: 'theirs',
        subresource: 'status',
        object: theirs,
        oldObject: theirs,
      }),
      /can only update pod status for pods with spec.nodeName set to itself/
    );
    await refused(
      attrs('UPDATE', pods, {
        namespace: 'default',
        name: 'mine',
        subresource: 'status',
        object: { ...mine, metadata: { ...mine.metadata, labels: { a: 'b' } } },
        oldObject: mine,
      }),
      /cannot update labels through pod status/
    );
    await refused(
      attrs('UPDATE', pods, { namespace: 'default', name: 'mine', object: mine, oldObject: mine }),
      /node "n1" can only create and delete mirror pods/
    );
    await refused(
      attrs('CREATE', pods, { namespace: 'default', name: 'mine', subresource: 'binding', object: {} }),
      /unexpected pod subresource "binding"/
    );
  });
});

describe('NodeRestriction - leases and tokens', () => {
  const lease = (name: string): KubeObject => ({ metadata: { name, namespace: 'kube-node-lease' } });
  test('its own Lease in kube-node-lease only', async () => {
    await plugin.validate!(attrs('CREATE', leases, { namespace: 'kube-node-lease', object: lease('n1') }));
    await plugin.validate!(
      attrs('UPDATE', leases, { namespace: 'kube-node-lease', name: 'n1', object: lease('n1'), oldObject: lease('n1') })
    );
    await refused(
      attrs('CREATE', leases, { namespace: 'kube-node-lease', object: lease('n2') }),
      /can only access node lease with the same name as the requesting node/
    );
    await refused(
      attrs('UPDATE', leases, { namespace: 'default', name: 'n1', object: lease('n1'), oldObject: lease('n1') }),
      /can only access leases in the "kube-node-lease" system namespace/
    );
  });
  const tokenRequest = (ref?: Record<string, string>): KubeObject => ({ spec: { boundObjectRef: ref } });
  const token = (ref?: Record<string, string>): AdmissionAttributes =>
    attrs('CREATE', serviceaccounts, {
      namespace: 'default',
      name: 'default',
      subresource: 'token',
      object: tokenRequest(ref),
    });
  test('tokens only bound to its own live pods', async () => {
    await plugin.validate!(token({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'u-mine' }));
    await refused(token(), /node requested token not bound to a pod/);
    await refused(token({ apiVersion: 'v1', kind: 'Pod', name: 'mine' }), /pod binding without a uid/);
    await refused(
      token({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'stale' }),
      /does not match the UID in record/
    );
    await refused(
      token({ apiVersion: 'v1', kind: 'Pod', name: 'theirs', uid: 'u-theirs' }),
      /bound to a pod scheduled on a different node/
    );
  });
  test("hubspoke: its daemons' tokens bound to itself, only for kube-system/konnectivity-agent and kube-proxy", async () => {
    const agentToken = (ref: Record<string, string>, name = 'konnectivity-agent'): AdmissionAttributes =>
      attrs('CREATE', serviceaccounts, {
        namespace: 'kube-system',
        name,
        subresource: 'token',
        object: tokenRequest(ref),
      });
    await plugin.validate!(agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u-n1' }));
    await plugin.validate!(agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u-n1' }, 'kube-proxy'));
    await refused(
      agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: 'u-n2' }, 'kube-proxy'),
      /bound to a different node/
    );
    await refused(agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: 'u-n2' }), /bound to a different node/);
    await refused(agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n1' }), /node binding without a uid/);
    await refused(
      agentToken({ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u' }, 'default'),
      /not bound to a pod/
    );
    await refused(
      attrs('CREATE', serviceaccounts, {
        namespace: 'default',
        name: 'kube-proxy',
        subresource: 'token',
        object: tokenRequest({ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u-n1' }),
      }),
      /not bound to a pod/
    );
  });
});

describe('NodeRestriction - scope', () => {
  test('other users and other kinds are not its business', async () => {
    await plugin.validate!(attrs('UPDATE', nodes, { user: admin, name: 'n2', object: node({}), oldObject: node({}) }));
    await plugin.validate!(attrs('CREATE', secrets, { namespace: 'default', object: { metadata: { name: 's' } } }));
  });
  test('an unnamed node is refused', async () => {
    await refused(
      attrs('CREATE', secrets, { user: { name: 'system:node:', groups: ['system:nodes'] }, object: {} }),
      /could not determine node from user "system:node:"/
    );
  });
});

describe('NodeRestriction - SSH host key pins (hubspoke)', () => {
  const pinned = (pin: string | undefined, extra: Record<string, string> = {}): KubeObject => ({
    metadata: { name: 'n1', annotations: { ...(pin ? { 'hubspoke.io/ssh-host-key': pin } : {}), ...extra } },
  });
  test('the node sets and changes its own pin; no other node may', async () => {
    await plugin.validate!(attrs('CREATE', nodes, { name: 'n1', object: pinned('SHA256:a') }));
    await plugin.validate!(
      attrs('UPDATE', nodes, { name: 'n1', object: pinned('SHA256:b'), oldObject: pinned('SHA256:a') })
    );
    const n2: UserInfo = { name: 'system:node:n2', groups: ['system:nodes'] };
    await refused(
      attrs('UPDATE', nodes, { name: 'n1', user: n2, object: pinned('SHA256:x'), oldObject: pinned('SHA256:a') }),
      /node "n2" is not allowed to modify node "n1"/
    );
  });
  test('any other user, admins included, may not add, change or remove it, but may change other annotations', async () => {
    await refused(
      attrs('CREATE', nodes, { name: 'n1', user: admin, object: pinned('SHA256:a') }),
      /only node "n1" itself may set the annotations hubspoke\.io\/ssh-host-key/
    );
    await refused(
      attrs('UPDATE', nodes, { name: 'n1', user: admin, object: pinned('SHA256:x'), oldObject: pinned('SHA256:a') }),
      /hubspoke\.io\/ssh-host-key/
    );
    await refused(
      attrs('UPDATE', nodes, { name: 'n1', user: admin, object: pinned(undefined), oldObject: pinned('SHA256:a') }),
      /hubspoke\.io\/ssh-host-key/
    );
    await refused(
      attrs('UPDATE', nodes, {
        name: 'n1',
        user: admin,
        object: pinned('SHA256:a', { 'hubspoke.io/ssh-port': '2222' }),
        oldObject: pinned('SHA256:a'),
      }),
      /hubspoke\.io\/ssh-port/
    );
    await plugin.validate!(
      attrs('UPDATE', nodes, {
        name: 'n1',
        user: admin,
        object: pinned('SHA256:a', { note: 'x' }),
        oldObject: pinned('SHA256:a'),
      })
    );
    await plugin.validate!(attrs('DELETE', nodes, { name: 'n1', user: admin, oldObject: pinned('SHA256:a') }));
  });
});
