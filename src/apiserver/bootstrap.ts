// What exists before the first request (upstream's post-start hooks): the system namespaces and the default
// RBAC policy. Roles carrying `rbac.authorization.kubernetes.io/autoupdate: "true"` are reconciled to the
// built-in rules on every start; anything else an administrator changed is left alone.
import { isAlreadyExists } from '../api/errors.js';
import { jsonEqual } from '../api/meta.js';
import type { KubeObject } from '../api/resource.js';
import type { Logger } from '../lib/log.js';
import { aggregateClusterRoles } from './authz/aggregation.js';
import {
  autoupdateAnnotation,
  bootstrapClusterRoleBindings,
  bootstrapClusterRoles,
  controllerClusterRoleBindings,
  controllerClusterRoles,
  controllerRoleBindings,
  controllerRoles,
} from './authz/bootstrap-policy.js';
import type { RegistryStore } from './registry/store.js';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(
  store: RegistryStore,
  obj: KubeObject,
  reconcile: (live: KubeObject) => KubeObject | null
): Promise<'created' | 'updated' | 'kept'> {
  const name = obj.metadata!.name!;
  const namespace = obj.metadata!.namespace ?? '';
  try {
    await store.create(namespace, obj, { dryRun: false });
    return 'created';
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const live = await store.get(namespace, name);
  const next = reconcile(live);
  if (!next) return 'kept';
  await store.guaranteedUpdate(namespace, name, { dryRun: false }, () => next);
  return 'updated';
}

export async function bootstrapPolicy(stores: ReadonlyMap<string, RegistryStore>, log: Logger): Promise<void> {
  const get = (key: string): RegistryStore => stores.get(key)!;
  const namespaces = get('/v1/namespaces');
  for (const name of systemNamespaces)
    await ensure(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, () => null);

  let changed = 0;
  const reconcileRole = async (roles: RegistryStore, role: KubeObject): Promise<void> => {
    const r = await ensure(roles, role, (live) => {
      if (live.metadata?.annotations?.[autoupdateAnnotation] !== 'true') return null;
      if (jsonEqual(live.rules, role.rules) && jsonEqual(live.aggregationRule, role.aggregationRule)) return null;
      return { ...live, rules: role.rules, aggregationRule: role.aggregationRule };
    });
    if (r !== 'kept') changed++;
  };
  const reconcileBinding = async (bindings: RegistryStore, b: KubeObject): Promise<void> => {
    const r = await ensure(bindings, b, (live) => {
      if (live.metadata?.annotations?.[autoupdateAnnotation] !== 'true' || jsonEqual(live.subjects, b.subjects))
        return null;
      return { ...live, subjects: b.subjects };
    });
    if (r !== 'kept') changed++;
  };
  const clusterRoles = [...aggregateClusterRoles(bootstrapClusterRoles()), ...controllerClusterRoles()];
  for (const role of clusterRoles as unknown as KubeObject[])
    await reconcileRole(get('rbac.authorization.k8s.io/v1/clusterroles'), role);
  for (const role of controllerRoles() as unknown as KubeObject[])
    await reconcileRole(get('rbac.authorization.k8s.io/v1/roles'), role);
  for (const b of [...bootstrapClusterRoleBindings(), ...controllerClusterRoleBindings()] as unknown as KubeObject[])
    await reconcileBinding(get('rbac.authorization.k8s.io/v1/clusterrolebindings'), b);
  for (const b of controllerRoleBindings() as unknown as KubeObject[])
    await reconcileBinding(get('rbac.authorization.k8s.io/v1/rolebindings'), b);
  if (changed) log.info({ changed }, 'reconciled default RBAC policy');
}
