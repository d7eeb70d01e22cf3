// The resource set the OpenAPI tests serve: what hubspoke registers (DESIGN.md), with upstream's subresources.
import type { OpenAPIResource } from './resource.js';

const core = (resource: string, kind: string, namespaced: boolean, subresources: string[] = []): OpenAPIResource => ({
  group: '',
  version: 'v1',
  resource,
  kind,
  namespaced,
  subresources,
});

export const servedResources: OpenAPIResource[] = [
  core('namespaces', 'Namespace', false, ['status']),
  core('nodes', 'Node', false, ['status', 'proxy']),
  core('pods', 'Pod', true, ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'proxy']),
  core('services', 'Service', true, ['status', 'proxy']),
  core('endpoints', 'Endpoints', true),
  core('serviceaccounts', 'ServiceAccount', true, ['token']),
  core('secrets', 'Secret', true),
  core('configmaps', 'ConfigMap', true),
  core('events', 'Event', true),
  { group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true },
  {
    group: 'certificates.k8s.io',
    version: 'v1',
    resource: 'certificatesigningrequests',
    kind: 'CertificateSigningRequest',
    namespaced: false,
    subresources: ['status', 'approval'],
  },
  ...(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'] as const).map((kind) => ({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: `${kind.toLowerCase()}s`,
    kind,
    namespaced: !kind.startsWith('Cluster'),
  })),
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'tokenreviews',
    kind: 'TokenReview',
    namespaced: false,
    verbs: ['create'],
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'subjectaccessreviews',
    kind: 'SubjectAccessReview',
    namespaced: false,
    verbs: ['create'],
  },
];
