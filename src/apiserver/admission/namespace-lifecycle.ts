// NamespaceLifecycle (upstream plugin/pkg/admission/namespace/lifecycle): objects are created only in namespaces
// that exist and are not terminating, and the system namespaces cannot be deleted.
import { newNotFound, StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { AdmissionPlugin } from './interface.js';

export const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export function namespaceLifecycle(getNamespace: (name: string) => Promise<KubeObject | undefined>): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    handles: (op) => op === 'CREATE' || op === 'DELETE',
    async validate(a) {
      if (a.operation === 'DELETE') {
        if (a.def.resource === 'namespaces' && a.def.group === '' && immortalNamespaces.has(a.name))
          throw new StatusError(
            403,
            'Forbidden',
            `namespaces "${a.name}" is forbidden: this namespace may not be deleted`,
            { name: a.name, kind: 'namespaces' }
          );
        return;
      }
      if (!a.def.namespaced || !a.namespace) return;
      const ns = await getNamespace(a.namespace);
      if (!ns) throw newNotFound({ group: '', resource: 'namespaces' }, a.namespace);
      if (ns.metadata?.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
        const kind = a.def.group ? `${a.def.resource}.${a.def.group}` : a.def.resource;
        throw new StatusError(
          403,
          'Forbidden',
          `${kind} "${a.name}" is forbidden: unable to create new content in namespace ${a.namespace} because it is being terminated`,
          {
            name: a.name,
            kind: a.def.resource,
            causes: [
              {
                reason: 'NamespaceTerminating',
                message: `namespace ${a.namespace} is being terminated`,
                field: 'metadata.namespace',
              },
            ],
          }
        );
      }
    },
  };
}
