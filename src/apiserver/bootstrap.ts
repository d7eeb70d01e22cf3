// What exists before the first request (upstream's post-start hooks): the system namespaces and the default
// RBAC policy. Roles carrying `rbac.authorization.kubernetes.io/autoupdate: "true"` are reconciled to the
// built-in rules on every start; anything else an administrator changed is left alone.
import { isAlreadyExists } from '../api/errors.js';
import { jsonEqual } from '../api/meta.js';
import type { KubeObject } from '../api/resource.js';
import type { Logger } from '../lib/log.js';
import { aggregateClusterRoles } from './authz/aggregation.js';
import { autoupdateAnnotation, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './authz/bootstrap-policy.js';
import type { RegistryStore } from './registry/store.js';

/**
 * Upstream runs each controller under its own service account; hubspoke's controllers share the controller
 * manager's certificate identity, so the namespace controller's upstream role is bound to that user.
 */
function controllerPolicy(): { roles: KubeObject[]; bindings: KubeObject[] } {
  const meta = (name: string): KubeObject['metadata'] => ({
    name,
    labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
    annotations: { [autoupdateAnnotation]: 'true' },
  });
  const name = 'system:controller:namespace-controller';
  return {
    roles: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(name),
        rules: [
          { apiGroups: ['*'], resources: ['*'], verbs: ['delete', 'deletecollection', 'get', 'list'] },
          { apiGroups: [''], resources: ['namespaces'], verbs: ['delete', 'get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['namespaces/finalize', 'namespaces/status'], verbs: ['update'] },
        ],
      },
    ],
    bindings: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: meta(name),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:kube-controller-manager' }],
      },
    ],
  };
}

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(
  store: RegistryStore,
  obj: KubeObject,
  reconcile: (live: KubeObject) => KubeObject | null
): Promise<'created' | 'updated' | 'kept'> {
  const name = obj.metadata!.name!;
  try {
    await store.create('', obj, { dryRun: false });
    return 'created';
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const live = await store.get('', name);
  const next = reconcile(live);
  if (!next) return 'kept';
  await store.guaranteedUpdate('', name, { dryRun: false }, () => next);
  return 'updated';
}

export async function bootstrapPolicy(stores: ReadonlyMap<string, RegistryStore>, log: Logger): Promise<void> {
  const get = (key: string): RegistryStore => stores.get(key)!;
  const namespaces = get('/v1/namespaces');
  for (const name of systemNamespaces)
    await ensure(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, () => null);

  const roles = get('rbac.authorization.k8s.io/v1/clusterroles');
  let changed = 0;
  const controllers = controllerPolicy();
  for (const role of [...aggregateClusterRoles(bootstrapClusterRoles()), ...controllers.roles] as KubeObject[]) {
    const r = await ensure(roles, role, (live) => {
      if (live.metadata?.annotations?.[autoupdateAnnotation] !== 'true') return null;
      if (jsonEqual(live.rules, role.rules) && jsonEqual(live.aggregationRule, role.aggregationRule)) return null;
      return { ...live, rules: role.rules, aggregationRule: role.aggregationRule };
    });
    if (r !== 'kept') changed++;
  }
  const bindings = get('rbac.authorization.k8s.io/v1/clusterrolebindings');
  for (const b of [...bootstrapClusterRoleBindings(), ...controllers.bindings] as KubeObject[]) {
    const r = await ensure(bindings, b, (live) => {
      if (live.metadata?.annotations?.[autoupdateAnnotation] !== 'true' || jsonEqual(live.subjects, b.subjects))
        return null;
      return { ...live, subjects: b.subjects };
    });
    if (r !== 'kept') changed++;
  }
  if (changed) log.info({ changed }, 'reconciled default RBAC policy');
}
