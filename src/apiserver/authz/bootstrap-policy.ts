// The default ClusterRoles and ClusterRoleBindings every cluster starts with (k8s plugin/pkg/auth/authorizer/
// rbac/bootstrappolicy/policy.go, as rendered in its testdata/cluster-roles.yaml). Rules list their verbs and
// resources sorted, as upstream's rule builder does, so they compare equal to a live cluster's objects.
// The controllers' roles (system:controller:*) follow at the end.
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  Subject,
} from 'kubernetes-types/rbac/v1.js';

const rbacGroup = 'rbac.authorization.k8s.io';

/** Marks an object as bootstrap policy: the API server re-creates it at start unless autoupdate is "false". */
export const bootstrapLabel = { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as const;
export const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';

export const aggregateToAdmin = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const aggregateToEdit = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const aggregateToView = 'rbac.authorization.k8s.io/aggregate-to-view';

/** The user the konnectivity server reviews agents' tokens as (its client certificate's CN, upstream's name). */
export const konnectivityServerUser = 'system:konnectivity-server';

const readWrite = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];

// Lists are copied so that no two returned objects share an array the caller might mutate.
function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { apiGroups: [...apiGroups], resources: [...resources], verbs: [...verbs] };
  if (resourceNames) r.resourceNames = [...resourceNames];
  return r;
}

const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ nonResourceURLs, verbs: [...verbs] });

const eventsRule = (): PolicyRule => rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): ClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabel, ...labels }, annotations: { [autoupdateAnnotation]: 'true' } },
    rules,
  };
}

/** A role whose rules the aggregation controller fills in from the roles labelled `aggregateLabel: "true"`. */
function aggregatedRole(name: string, aggregateLabel: string, labels: Record<string, string> = {}): ClusterRole {
  return {
    ...clusterRole(name, [], labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateLabel]: 'true' } }] },
  };
}

// Leader election: anyone may create the lease, only its owner may take it over (k8s policy.go).
const leaderElection = (lease: string): PolicyRule[] => [
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], [lease]),
];

const signerApprover = (signer: string): ClusterRole =>
  clusterRole(`system:certificates.k8s.io:${signer.replace('kubernetes.io/', '')}-approver`, [
    rule(['approve'], ['certificates.k8s.io'], ['signers'], [signer]),
  ]);

/** A fresh copy of the default ClusterRoles; admin, edit and view still need aggregating (see aggregation.ts). */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    // A "root" role which can do absolutely anything.
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    // Just enough to discover API versions for negotiation.
    clusterRole('system:discovery', [
      urls(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ]
      ),
    ]),
    clusterRole('system:monitoring', [
      urls(
        ['get'],
        ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*']
      ),
    ]),
    // Lets a user learn about themselves.
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    // Information safe to show to anyone, authenticated or not.
    clusterRole('system:public-info-viewer', [
      urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/']),
    ]),

    // The user-facing roles: admin = edit + granting in a namespace, edit = view + writing, view = reading.
    aggregatedRole('admin', aggregateToAdmin),
    aggregatedRole('edit', aggregateToEdit, { [aggregateToAdmin]: 'true' }),
    aggregatedRole('view', aggregateToView, { [aggregateToEdit]: 'true' }),
    clusterRole(
      'system:aggregate-to-admin',
      [
        rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
        rule(readWrite, [rbacGroup], ['rolebindings', 'roles']),
      ],
      { [aggregateToAdmin]: 'true' }
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        // Secrets and exec are read-write for editors but deliberately absent from view (they escalate).
        rule(read, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
        rule(['impersonate'], [''], ['serviceaccounts']),
        rule(write, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
        rule(['create'], [''], ['pods/eviction']),
        rule(
          write,
          [''],
          [
            'configmaps',
            'events',
            'persistentvolumeclaims',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'secrets',
            'serviceaccounts',
            'services',
            'services/proxy',
          ]
        ),
        rule(['create'], [''], ['serviceaccounts/token']),
        rule(
          write,
          ['apps'],
          [
            'daemonsets',
            'deployments',
            'deployments/rollback',
            'deployments/scale',
            'replicasets',
            'replicasets/scale',
            'statefulsets',
            'statefulsets/scale',
          ]
        ),
        rule(write, ['autoscaling'], ['horizontalpodautoscalers']),
        rule(write, ['batch'], ['cronjobs', 'jobs']),
        rule(
          write,
          ['extensions'],
          [
            'daemonsets',
            'deployments',
            'deployments/rollback',
            'deployments/scale',
            'ingresses',
            'networkpolicies',
            'replicasets',
            'replicasets/scale',
            'replicationcontrollers/scale',
          ]
        ),
        rule(write, ['policy'], ['poddisruptionbudgets']),
        rule(write, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
        rule(readWrite, ['coordination.k8s.io'], ['leases']),
      ],
      { [aggregateToEdit]: 'true' }
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(
          read,
          [''],
          [
            'configmaps',
            'endpoints',
            'persistentvolumeclaims',
            'persistentvolumeclaims/status',
            'pods',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/status',
          ]
        ),
        rule(
          read,
          [''],
          [
            'bindings',
            'events',
            'limitranges',
            'namespaces/status',
            'pods/log',
            'pods/status',
            'replicationcontrollers/status',
            'resourcequotas',
            'resourcequotas/status',
          ]
        ),
        // Reading namespaces within a namespace means reading *this* one: a hint of where one has access.
        rule(read, [''], ['namespaces']),
        rule(read, ['discovery.k8s.io'], ['endpointslices']),
        rule(
          read,
          ['apps'],
          [
            'controllerrevisions',
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'statefulsets',
            'statefulsets/scale',
            'statefulsets/status',
          ]
        ),
        rule(read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        rule(read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
        rule(
          read,
          ['extensions'],
          [
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'ingresses',
            'ingresses/status',
            'networkpolicies',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'replicationcontrollers/scale',
          ]
        ),
        rule(read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        rule(read, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      ],
      { [aggregateToView]: 'true' }
    ),

    // What a kubelet needs. Upstream no longer binds it to system:nodes: the Node authorizer (and
    // NodeRestriction admission) grant these per node, scoped to the node's own pods and objects.
    clusterRole('system:node', [
      // Delegated authn/authz of requests to the kubelet. These creates mutate nothing.
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
      // Service environment variables for pods.
      rule(read, [''], ['services']),
      // Self-registration and status.
      rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['nodes']),
      rule(['create', 'patch', 'update'], [''], ['events']),
      rule(read, [''], ['pods']),
      // Mirror pods for static pods.
      rule(['create', 'delete'], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['create'], [''], ['pods/eviction']),
      // Secret and configmap volumes, image pull secrets, env.
      rule(read, [''], ['configmaps', 'secrets']),
      rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['get'], [''], ['endpoints']),
      // TLS bootstrapping and client certificate rotation.
      rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      // Node heartbeats.
      rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
      // Projected service account token volumes.
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
      rule(read, ['storage.k8s.io'], ['csidrivers']),
      rule(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
      rule(read, ['node.k8s.io'], ['runtimeclasses']),
    ]),
    // Delegated authentication and authorization (upstream's, for add-on servers that check callers by review).
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    // The konnectivity server checks an agent's node-bound token, then that the addresses it claims are its Node's.
    clusterRole(konnectivityServerUser, [rule(['get'], [''], ['nodes'])]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [''], ['endpoints', 'services']),
      rule(read, [''], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    // Enough to start the shared informers and mint per-controller identities.
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      ...leaderElection('kube-controller-manager'),
      rule(['create'], [''], ['secrets', 'serviceaccounts']),
      rule(['delete'], [''], ['secrets']),
      rule(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [''], ['secrets', 'serviceaccounts']),
      // Delegated authn/authz for its own secure port.
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      // The generic garbage collector and quota controller list and watch everything.
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      ...leaderElection('kube-scheduler'),
      rule(read, [''], ['nodes']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      rule(['create'], [''], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(read, [''], ['replicationcontrollers', 'services']),
      rule(read, ['apps', 'extensions'], ['replicasets']),
      rule(read, ['apps'], ['statefulsets']),
      rule(read, ['policy'], ['poddisruptionbudgets']),
      rule(read, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(read, ['storage.k8s.io'], ['csinodes']),
      rule(read, [''], ['namespaces']),
      rule(read, ['storage.k8s.io'], ['csidrivers']),
      rule(read, ['storage.k8s.io'], ['csistoragecapacities']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
      rule(read, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    ]),
    // Full access to the kubelet API (logs, exec, metrics): what the API server's kubelet client needs.
    clusterRole('system:kubelet-api-admin', [
      rule(read, [''], ['nodes']),
      rule(['proxy'], [''], ['nodes']),
      rule(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats']),
    ]),
    // What a bootstrap token may do: ask for a client certificate.
    clusterRole('system:node-bootstrapper', [
      rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    ]),
    // The CSR approver auto-approves node client CSRs from whoever holds these.
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient']),
    ]),
    // Approving a CSR needs `approve` on its signer.
    signerApprover('kubernetes.io/kube-apiserver-client'),
    signerApprover('kubernetes.io/kube-apiserver-client-kubelet'),
    signerApprover('kubernetes.io/kubelet-serving'),
    signerApprover('kubernetes.io/legacy-unknown'),
    clusterRole('system:service-account-issuer-discovery', [
      urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks']),
    ]),
  ];
}

const group = (name: string): Subject => ({ apiGroup: rbacGroup, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: rbacGroup, kind: 'User', name });

function clusterBinding(name: string, subjects: Subject[] | undefined, role = name): ClusterRoleBinding {
  const binding: ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabel }, annotations: { [autoupdateAnnotation]: 'true' } },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role },
  };
  if (subjects) binding.subjects = subjects;
  return binding;
}

/** A fresh copy of the default ClusterRoleBindings (k8s bootstrappolicy.ClusterRoleBindings). */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterBinding('cluster-admin', [group('system:masters')]),
    clusterBinding('system:monitoring', [group('system:monitoring')]),
    clusterBinding('system:discovery', [group('system:authenticated')]),
    clusterBinding('system:basic-user', [group('system:authenticated')]),
    clusterBinding('system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    clusterBinding('system:node-proxier', [user('system:kube-proxy')]),
    clusterBinding('system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterBinding('system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterBinding('system:volume-scheduler', [user('system:kube-scheduler')]),
    // Kept with no subjects since 1.8 so that reconciliation strips the old system:nodes subject: nodes
    // are authorized by the Node authorizer instead.
    clusterBinding('system:node', undefined),
    clusterBinding('system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    // The Konnectivity setup guide's binding (upstream's docs, konnectivity-server RBAC): agents' tokens are
    // reviewed as this user, not as an admin; plus its node reads.
    clusterBinding(konnectivityServerUser, [user(konnectivityServerUser)], 'system:auth-delegator'),
    clusterBinding(`${konnectivityServerUser}:nodes`, [user(konnectivityServerUser)], konnectivityServerUser),
    // kubeadm's: the API server's client certificate toward kubelets (src/apiserver/proxy/credentials.ts).
    clusterBinding(
      'kube-apiserver-kubelet-client',
      [user('kube-apiserver-kubelet-client')],
      'system:kubelet-api-admin'
    ),
    // kubeadm's bindings for TLS bootstrapping (`kubeadm init phase bootstrap-token`): nodes joining with a token
    // from `hubspoke token create` (its default group) may ask for a client certificate and have it
    // auto-approved, and nodes may renew their own.
    clusterBinding('kubeadm:kubelet-bootstrap', [group(kubeadmNodeTokenGroup)], 'system:node-bootstrapper'),
    clusterBinding(
      'kubeadm:node-autoapprove-bootstrap',
      [group(kubeadmNodeTokenGroup)],
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient'
    ),
    clusterBinding(
      'kubeadm:node-autoapprove-certificate-rotation',
      [group('system:nodes')],
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient'
    ),
  ];
}

/** The group kubeadm's node bootstrap tokens carry (`auth-extra-groups`). */
export const kubeadmNodeTokenGroup = 'system:bootstrappers:kubeadm:default-node-token';

// Controller roles (upstream bootstrappolicy controller_policy.go and namespace_policy.go): `system:controller:
// <name>` bound to the ServiceAccount kube-system/<name> each controller authenticates as. Upstream's controllers
// read through kube-controller-manager's shared informers, which list and watch as system:kube-controller-manager;
// hubspoke's controllers each list and watch with their own identity, so their roles also grant the reads they need.
const saRolePrefix = 'system:controller:';
const serviceAccount = (name: string): Subject => ({ kind: 'ServiceAccount', name, namespace: 'kube-system' });
const listWatch = ['list', 'watch'];

function controllerRole(name: string, rules: PolicyRule[]): ClusterRole {
  return clusterRole(saRolePrefix + name, [...rules, eventsRule()]);
}

/** A fresh copy of the controllers' ClusterRoles. */
export function controllerClusterRoles(): ClusterRole[] {
  return [
    controllerRole('namespace-controller', [
      rule(['delete', 'deletecollection', 'get', 'list'], ['*'], ['*']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['namespaces']),
      rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
    ]),
    controllerRole('service-account-controller', [
      rule(['create', 'get', 'list', 'watch'], [''], ['serviceaccounts']),
      rule(['get', 'list', 'watch'], [''], ['namespaces']),
    ]),
    controllerRole('root-ca-cert-publisher', [
      rule(['create', 'get', 'list', 'update', 'watch'], [''], ['configmaps']),
      rule(listWatch, [''], ['namespaces']),
    ]),
    controllerRole('certificate-controller', [
      rule(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      rule(
        ['update'],
        ['certificates.k8s.io'],
        ['certificatesigningrequests/approval', 'certificatesigningrequests/status']
      ),
      rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(
        ['sign'],
        ['certificates.k8s.io'],
        ['signers'],
        [
          'kubernetes.io/kube-apiserver-client',
          'kubernetes.io/kube-apiserver-client-kubelet',
          'kubernetes.io/kubelet-serving',
          'kubernetes.io/legacy-unknown',
        ]
      ),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    controllerRole('node-controller', [
      rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      // The node leases it reads kubelets' heartbeats from.
      rule(listWatch, ['coordination.k8s.io'], ['leases']),
    ]),
    controllerRole('endpoint-controller', [
      rule(['get', 'list', 'watch'], [''], ['pods', 'services']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['endpoints']),
      rule(['create'], [''], ['endpoints/restricted']),
    ]),
    controllerRole('endpointslice-controller', [
      rule(['get', 'list', 'watch'], [''], ['nodes', 'pods', 'services']),
      rule(['update'], [''], ['services/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    // hubspoke's approver also approves kubelet serving CSRs whose names are the node's own (upstream leaves
    // them to the administrator), so the certificate controller may approve that signer and read Nodes.
    clusterRole('hubspoke:kubelet-serving-approver', [
      rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kubelet-serving']),
      rule(['get'], [''], ['nodes']),
    ]),
  ];
}

/** A fresh copy of the controllers' ClusterRoleBindings. */
export function controllerClusterRoleBindings(): ClusterRoleBinding[] {
  const bind = (sa: string): ClusterRoleBinding => clusterBinding(saRolePrefix + sa, [serviceAccount(sa)]);
  return [
    bind('namespace-controller'),
    bind('service-account-controller'),
    bind('root-ca-cert-publisher'),
    bind('certificate-controller'),
    bind('node-controller'),
    bind('endpoint-controller'),
    bind('endpointslice-controller'),
    clusterBinding('hubspoke:kubelet-serving-approver', [serviceAccount('certificate-controller')]),
  ];
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  const r = clusterRole(name, rules);
  return { ...r, kind: 'Role', metadata: { ...r.metadata, namespace } };
}

function roleBinding(namespace: string, name: string, subjects: Subject[]): RoleBinding {
  const b = clusterBinding(name, subjects);
  return { ...b, kind: 'RoleBinding', metadata: { ...b.metadata, namespace }, roleRef: { ...b.roleRef, kind: 'Role' } };
}

/**
 * A fresh copy of the controllers' namespaced Roles. The `kubernetes` Service controller is upstream's
 * kube-apiserver itself (as system:apiserver, a system:masters member); hubspoke runs it as a controller with
 * only the objects it keeps.
 */
export function controllerRoles(): Role[] {
  return [
    role('kube-system', saRolePrefix + 'token-cleaner', [
      rule(['delete', 'get', 'list', 'watch'], [''], ['secrets']),
      eventsRule(),
    ]),
    role('default', saRolePrefix + 'kubernetes-service-controller', [
      rule(['create', 'get', 'update'], [''], ['endpoints', 'services']),
      rule(['create', 'delete', 'get', 'update'], ['discovery.k8s.io'], ['endpointslices']),
      eventsRule(),
    ]),
    role('kube-system', saRolePrefix + 'kubernetes-service-controller', [
      rule(listWatch, ['coordination.k8s.io'], ['leases']),
    ]),
  ];
}

/** A fresh copy of the controllers' RoleBindings. */
export function controllerRoleBindings(): RoleBinding[] {
  return [
    roleBinding('kube-system', saRolePrefix + 'token-cleaner', [serviceAccount('token-cleaner')]),
    roleBinding('default', saRolePrefix + 'kubernetes-service-controller', [
      serviceAccount('kubernetes-service-controller'),
    ]),
    roleBinding('kube-system', saRolePrefix + 'kubernetes-service-controller', [
      serviceAccount('kubernetes-service-controller'),
    ]),
  ];
}
