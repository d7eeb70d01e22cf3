import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  filterNode,
  fitErrorMessage,
  podRequests,
  toleratesTaint,
  type FilterStatus,
  type NodeInfo,
} from './scheduler-filters.js';
import { selectHost } from './scheduler.js';

const container = (requests: Record<string, string> = {}, extra: Partial<Container> = {}): Container => ({
  name: 'c',
  image: 'x',
  resources: { requests },
  ...extra,
});

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'default' },
  spec: { containers: [container()], ...spec },
});

function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; ready?: string } = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }],
    },
  };
}

const info = (n: Node, pods: Pod[] = []): NodeInfo => ({ node: n, pods });

test('podRequests - containers add up; init containers take the max; sidecars add to both', () => {
  const p = pod({
    containers: [container({ cpu: '100m', memory: '64Mi' }), container({ cpu: '200m' })],
    initContainers: [container({ cpu: '500m' }), container({ memory: '1Gi' })],
  });
  const r = podRequests(p);
  assert.equal(r.get('cpu'), 500);
  assert.equal(r.get('memory'), 1024 ** 3);

  const withSidecar = pod({
    containers: [container({ cpu: '100m' })],
    initContainers: [container({ cpu: '300m' }, { restartPolicy: 'Always' }), container({ cpu: '250m' })],
    overhead: { cpu: '10m' },
  });
  // The sidecar runs with the main container (400m); the second init container runs next to it (550m).
  assert.equal(podRequests(withSidecar).get('cpu'), 560);
});

test('toleratesTaint - Equal, Exists, empty key, effect', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v' }, taint), true);
  assert.equal(toleratesTaint({ key: 'k', value: 'v' }, taint), true);
  assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'w' }, taint), false);
  assert.equal(toleratesTaint({ key: 'k', operator: 'Exists' }, taint), true);
  assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
  assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint), false);
  assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, taint), false);
});

test('filterNode - resources, pod count, and the reasons upstream gives', () => {
  const big = pod({ containers: [container({ cpu: '1500m', memory: '1Gi' })] });
  assert.equal(filterNode(big, info(node('a'))), undefined);
  const busy = info(node('a'), [pod({ containers: [container({ cpu: '1', memory: '3500Mi' })] })]);
  assert.deepEqual(filterNode(big, busy), {
    reasons: ['Insufficient cpu', 'Insufficient memory'],
    unresolvable: false,
  });
  assert.deepEqual(filterNode(pod(), info(node('a', { pods: '1' }), [pod()])), {
    reasons: ['Too many pods'],
    unresolvable: false,
  });
  // Requests of zero never fail on resources.
  assert.equal(filterNode(pod(), busy), undefined);
});

test('filterNode - taints and tolerations, NotReady nodes, unschedulable', () => {
  const tainted = node('a');
  tainted.spec = { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] };
  assert.deepEqual(filterNode(pod(), info(tainted)), {
    reasons: ['node(s) had untolerated taint {dedicated: gpu}'],
    unresolvable: true,
  });
  assert.equal(filterNode(pod({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), info(tainted)), undefined);
  // PreferNoSchedule never filters.
  tainted.spec = { taints: [{ key: 'dedicated', effect: 'PreferNoSchedule' }] };
  assert.equal(filterNode(pod(), info(tainted)), undefined);

  assert.deepEqual(filterNode(pod(), info(node('b', { ready: 'False' }))), {
    reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'],
    unresolvable: true,
  });
  assert.deepEqual(filterNode(pod(), info(node('b', { ready: 'Unknown' }))), {
    reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'],
    unresolvable: true,
  });
  assert.equal(
    filterNode(pod({ tolerations: [{ operator: 'Exists' }] }), info(node('b', { ready: 'False' }))),
    undefined
  );

  const cordoned = node('c');
  cordoned.spec = { unschedulable: true };
  assert.deepEqual(filterNode(pod(), info(cordoned))?.reasons, ['node(s) were unschedulable']);
  const tolerant = pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] });
  assert.equal(filterNode(tolerant, info(cordoned)), undefined);
});

test('filterNode - nodeSelector and required node affinity', () => {
  const n = node('a');
  n.metadata!.labels = { disk: 'ssd', zone: 'z1', gen: '5' };
  const mismatch = ["node(s) didn't match Pod's node affinity/selector"];
  assert.equal(filterNode(pod({ nodeSelector: { disk: 'ssd' } }), info(n)), undefined);
  assert.deepEqual(filterNode(pod({ nodeSelector: { disk: 'hdd' } }), info(n))?.reasons, mismatch);
  const affinity = (terms: object[]): Partial<NonNullable<Pod['spec']>> => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
  });
  const fits = (terms: object[]): boolean => filterNode(pod(affinity(terms)), info(n)) === undefined;
  assert.equal(fits([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }]), true);
  assert.equal(fits([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }]), false);
  assert.equal(fits([{ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }]), true);
  assert.equal(fits([{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }]), true);
  assert.equal(fits([{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }]), true);
  assert.equal(fits([{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }]), false);
  // Terms are ORed; expressions in a term ANDed; an empty term matches nothing.
  assert.equal(
    fits([
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z9'] }] },
      { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] },
    ]),
    true
  );
  assert.equal(
    fits([
      {
        matchExpressions: [
          { key: 'disk', operator: 'In', values: ['ssd'] },
          { key: 'zone', operator: 'In', values: ['z9'] },
        ],
      },
    ]),
    false
  );
  assert.equal(fits([{}]), false);
  assert.equal(fits([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }]), true);
});

test('filterNode - host ports conflict', () => {
  const withPort = (hostPort: number): Pod =>
    pod({ containers: [container({}, { ports: [{ containerPort: 80, hostPort }] })] });
  assert.deepEqual(filterNode(withPort(8080), info(node('a'), [withPort(8080)]))?.reasons, [
    "node(s) didn't have free ports for the requested pod ports",
  ]);
  assert.equal(filterNode(withPort(8081), info(node('a'), [withPort(8080)])), undefined);
});

test('fitErrorMessage - upstream shape, reasons sorted with counts', () => {
  const statuses: FilterStatus[] = [
    { reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'], unresolvable: true },
    { reasons: ['Insufficient cpu'], unresolvable: false },
  ];
  assert.equal(
    fitErrorMessage(statuses),
    '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. ' +
      'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, ' +
      '1 Preemption is not helpful for scheduling.'
  );
  assert.equal(
    fitErrorMessage([
      { reasons: ['Insufficient cpu', 'Insufficient memory'], unresolvable: false },
      { reasons: ['Insufficient cpu'], unresolvable: false },
    ]),
    // Sorted as strings, as upstream's sort.Strings does, counts included.
    '0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. ' +
      'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.'
  );
});

test('selectHost - least allocated wins; ties spread by pod count', () => {
  const p = pod({ containers: [container({ cpu: '500m', memory: '512Mi' })] });
  const heavy = info(node('a'), [pod({ containers: [container({ cpu: '1', memory: '2Gi' })] })]);
  const light = info(node('b'));
  assert.equal(selectHost(p, [heavy, light])?.node.metadata?.name, 'b');
  const big = info(node('c', { cpu: '8', memory: '32Gi' }));
  assert.equal(selectHost(p, [light, big])?.node.metadata?.name, 'c');
  assert.equal(selectHost(p, [info(node('y')), info(node('x'))])?.node.metadata?.name, 'x');
  assert.equal(selectHost(p, []), undefined);
});
