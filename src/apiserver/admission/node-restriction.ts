// NodeRestriction admission (k8s plugin/pkg/admission/noderestriction): what the Node authorizer lets any node
// write by kind, this narrows to the node itself. A node changes only its own Node (never its taints, its config
// source or the labels reserved for admins), its own Lease, the status of pods bound to it; it creates only
// mirror pods of itself, deletes only its own pods, and asks for tokens only for pods bound to it. Upstream runs
// it with the mutating plugins; it never mutates, so here it runs with the validating ones, where deletes are
// also seen.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { newForbidden, StatusError } from '../../api/errors.js';
import { jsonEqual } from '../../api/meta.js';
import type { KubeObject } from '../../api/resource.js';
import { sshHostKeyAnnotation, sshPortAnnotation } from '../../pki/index.js';
import { nodeIdentity, nodeLeaseNamespace } from '../authz/node.js';
import { isMirrorPod, mirrorPodAnnotation, podConfigMapNames, podSecretNames } from '../authz/pod-references.js';
import type { AdmissionAttributes, AdmissionPlugin } from './interface.js';

export interface NodeRestrictionDeps {
  /** Live reads; `undefined` when not found. */
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
  getNode(name: string): Promise<KubeObject | undefined>;
}

// Labels a kubelet sets on its own Node (k8s pkg/kubelet/apis IsKubeletLabel).
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (label: string): string => (label.includes('/') ? label.slice(0, label.indexOf('/')) : '');
const inNamespace = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

function isKubeletLabel(label: string): boolean {
  const ns = labelNamespace(label);
  return kubeletLabels.has(label) || kubeletLabelNamespaces.some((d) => inNamespace(ns, d));
}

/** The labels a node may not add, change or remove: `node-restriction.kubernetes.io/` and non-kubelet `kubernetes.io`/`k8s.io`. */
export function forbiddenNodeLabels(labels: Record<string, string>, old: Record<string, string> = {}): string[] {
  const modified = new Set<string>();
  for (const k of new Set([...Object.keys(labels), ...Object.keys(old)])) if (labels[k] !== old[k]) modified.add(k);
  return [...modified]
    .filter((label) => {
      const ns = labelNamespace(label);
      if (inNamespace(ns, 'node-restriction.kubernetes.io')) return true;
      const kubernetesLabel = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
      return kubernetesLabel && !isKubeletLabel(label);
    })
    .sort();
}

export function nodeRestriction(deps: NodeRestrictionDeps): AdmissionPlugin {
  return {
    name: 'NodeRestriction',
    handles: (op) => op === 'CREATE' || op === 'UPDATE' || op === 'DELETE',
    async validate(a) {
      const node = nodeIdentity(a.user);
      if (node === undefined) return admitSSHPins(a); // otherwise only nodes are restricted
      const forbid = (why: string): StatusError =>
        newForbidden({ group: a.def.group, resource: a.def.resource }, a.name, why);
      if (node === '') throw forbid(`could not determine node from user ${JSON.stringify(a.user!.name)}`);
      switch (`${a.def.resource}.${a.def.group}`) {
        case 'pods.':
          return admitPod(node, a, deps, forbid);
        case 'nodes.':
          return admitNode(node, a, forbid);
        case 'serviceaccounts.':
          return admitTokenRequest(node, a, deps, forbid);
        case 'leases.coordination.k8s.io':
          return admitLease(node, a, forbid);
        default:
          return;
      }
    },
  };
}

type Forbid = (why: string) => StatusError;

async function livePod(deps: NodeRestrictionDeps, namespace: string, name: string, forbid: Forbid): Promise<Pod> {
  const pod = await deps.getPod(namespace, name);
  if (!pod) throw new StatusError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
  if (!pod.spec) throw forbid(`pod ${namespace}/${name} has no spec`);
  return pod as Pod;
}

async function admitPod(node: string, a: AdmissionAttributes, deps: NodeRestrictionDeps, forbid: Forbid) {
  switch (a.subresource) {
    case '':
      if (a.operation === 'CREATE') return admitMirrorPodCreate(node, a.object as Pod, deps, forbid);
      if (a.operation === 'DELETE') {
        const pod = (a.oldObject as Pod | undefined) ?? (await livePod(deps, a.namespace, a.name, forbid));
        if (pod.spec?.nodeName !== node)
          throw forbid(`node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw forbid(`unexpected operation "${a.operation}", node "${node}" can only create and delete mirror pods`);
    case 'status': {
      if (a.operation !== 'UPDATE') throw forbid(`unexpected operation "${a.operation}"`);
      const old = a.oldObject as Pod;
      if (old.spec?.nodeName !== node)
        throw forbid(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      if (!jsonEqual(old.metadata?.labels ?? {}, (a.object as Pod).metadata?.labels ?? {}))
        throw forbid(`node "${node}" cannot update labels through pod status`);
      return;
    }
    case 'eviction': {
      if (a.operation !== 'CREATE') throw forbid(`unexpected operation "${a.operation}"`);
      const pod = await livePod(deps, a.namespace, a.name, forbid);
      if (pod.spec?.nodeName !== node)
        throw forbid(`node ${node} can only evict pods with spec.nodeName set to itself`);
      return;
    }
    default:
      throw forbid(`unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`);
  }
}

async function admitMirrorPodCreate(node: string, pod: Pod, deps: NodeRestrictionDeps, forbid: Forbid) {
  if (!isMirrorPod(pod))
    throw forbid(`pod does not have "${mirrorPodAnnotation}" annotation, node "${node}" can only create mirror pods`);
  if (pod.spec?.nodeName !== node) throw forbid(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = pod.metadata?.ownerReferences ?? [];
  if (owners.length > 1)
    throw forbid(`node "${node}" can only create pods with a single owner reference set to itself`);
  const owner = owners[0];
  if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node)
    throw forbid(`node "${node}" can only create pods with an owner reference set to itself`);
  if (owner.controller !== true)
    throw forbid(`node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true)
    throw forbid(`node "${node}" must not set blockOwnerDeletion on an owner reference`);
  const self = await deps.getNode(node);
  if (!self) throw new StatusError(404, 'NotFound', `nodes "${node}" not found`, { name: node, kind: 'nodes' });
  if (owner.uid !== self.metadata?.uid)
    throw forbid(`node ${node} UID mismatch: expected ${self.metadata?.uid ?? ''} got ${owner.uid}`);
  // A node may not use a pod to reach objects the Node authorizer would not give it.
  if (pod.spec?.serviceAccountName) throw forbid(`node "${node}" can not create pods that reference a service account`);
  if (podSecretNames(pod).length > 0) throw forbid(`node "${node}" can not create pods that reference secrets`);
  if (podConfigMapNames(pod).length > 0) throw forbid(`node "${node}" can not create pods that reference configmaps`);
  if (pod.spec?.volumes?.some((v) => v.persistentVolumeClaim))
    throw forbid(`node "${node}" can not create pods that reference persistentvolumeclaims`);
  if (pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => 'clusterTrustBundle' in s)))
    throw forbid(`node "${node}" can not create pods that use clustertrustbundles`);
}

function admitNode(node: string, a: AdmissionAttributes, forbid: Forbid): void {
  const name = a.operation === 'CREATE' ? (a.object?.metadata?.name ?? a.name) : a.name;
  if (name !== node) throw forbid(`node "${node}" is not allowed to modify node "${name}"`);
  if (a.subresource !== '' && a.subresource !== 'status') return;
  const obj = a.object as Node | undefined;
  if (a.operation === 'CREATE' && obj) {
    if (obj.spec?.configSource)
      throw forbid(`node "${node}" is not allowed to create pods with a non-nil configSource`);
    const bad = forbiddenNodeLabels(obj.metadata?.labels ?? {});
    if (bad.length) throw forbid(`node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (a.operation === 'UPDATE' && obj) {
    const old = a.oldObject as Node;
    if (obj.spec?.configSource && !jsonEqual(obj.spec.configSource, old.spec?.configSource))
      throw forbid(`node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    // Changing its taints would let a node steer workloads meant to stay off it onto itself.
    if (!jsonEqual(obj.spec?.taints ?? [], old.spec?.taints ?? []))
      throw forbid(`node "${node}" is not allowed to modify taints`);
    const bad = forbiddenNodeLabels(obj.metadata?.labels ?? {}, old.metadata?.labels ?? {});
    if (bad.length) throw forbid(`is not allowed to modify labels: ${bad.join(', ')}`);
  }
}

// hubspoke: the SSH host key pin (and port) a node publishes for the API server's SSH tunnels
// (apiserver/egress/ssh) is trusted because only the node itself can write it; no other user may add, change
// or remove it (an administrator pins keys with --ssh-known-hosts instead).
const sshPinAnnotations = [sshHostKeyAnnotation, sshPortAnnotation];

function admitSSHPins(a: AdmissionAttributes): void {
  if (a.def.group !== '' || a.def.resource !== 'nodes' || a.operation === 'DELETE') return;
  const now = a.object?.metadata?.annotations ?? {};
  const old = (a.operation === 'UPDATE' ? a.oldObject?.metadata?.annotations : undefined) ?? {};
  const changed = sshPinAnnotations.filter((k) => now[k] !== old[k]);
  if (changed.length)
    throw newForbidden(
      { group: '', resource: 'nodes' },
      a.name,
      `only node "${a.object?.metadata?.name ?? a.name}" itself may set the annotations ${changed.join(', ')}`
    );
}

/** The service accounts of the daemons `hubspoke agent` runs beside the kubelet: konnectivity agent, kube-proxy. */
export const nodeDaemonNamespace = 'kube-system';
export const nodeDaemonServiceAccounts = ['konnectivity-agent', 'kube-proxy'] as const;

interface TokenRequestSpec {
  audiences?: string[];
  boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string };
}

async function admitTokenRequest(node: string, a: AdmissionAttributes, deps: NodeRestrictionDeps, forbid: Forbid) {
  if (a.operation !== 'CREATE' || a.subresource !== 'token') return;
  const ref = (a.object?.spec as TokenRequestSpec | undefined)?.boundObjectRef;
  // hubspoke: the node's own daemons (in the agent's process, not pods) bind their tokens to the node itself; the
  // registry checks the uid, RBAC (kube-system/system:node-daemon-tokens) grants exactly these service accounts.
  if (
    ref?.apiVersion === 'v1' &&
    ref.kind === 'Node' &&
    a.namespace === nodeDaemonNamespace &&
    (nodeDaemonServiceAccounts as readonly string[]).includes(a.name ?? '')
  ) {
    if (ref.name !== node) throw forbid('node requested token bound to a different node');
    if (!ref.uid) throw forbid('node requested token with a node binding without a uid');
    return;
  }
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name)
    throw forbid('node requested token not bound to a pod');
  if (!ref.uid) throw forbid('node requested token with a pod binding without a uid');
  const pod = await livePod(deps, a.namespace, ref.name, forbid);
  if (pod.metadata?.uid !== ref.uid)
    throw forbid(
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`
    );
  if (pod.spec?.nodeName !== node) throw forbid('node requested token bound to a pod scheduled on a different node');
}

function admitLease(node: string, a: AdmissionAttributes, forbid: Forbid): void {
  if (a.namespace !== nodeLeaseNamespace)
    throw forbid(`can only access leases in the "${nodeLeaseNamespace}" system namespace`);
  const name = a.operation === 'CREATE' ? a.object?.metadata?.name : a.name;
  if (name !== node) throw forbid('can only access node lease with the same name as the requesting node');
}
