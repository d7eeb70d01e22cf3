// core/v1 namespaces (k8s pkg/registry/core/namespace).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { arr, child, obj, str } from '../../validation/json.js';
import { isQualifiedName } from '../../validation/names.js';

// Finalizers without a domain prefix must be one of upstream's standard names.
const standardFinalizers = ['kubernetes', 'orphan', 'foregroundDeletion'];

function defaultNamespace(ns: KubeObject): void {
  const meta = (ns.metadata ??= {});
  // Upstream labels every namespace with its own name so selectors can pick namespaces by name.
  if (meta.name) meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
  const spec = child(ns, 'spec');
  spec.finalizers ??= ['kubernetes'];
  child(ns, 'status').phase ??= 'Active';
}

function validateNamespace(ns: KubeObject): FieldError[] {
  const p = path('spec').child('finalizers');
  return arr(obj(ns.spec).finalizers).flatMap((raw, i) => {
    const f = str(raw);
    const errs = isQualifiedName(f).map((msg) => p.index(i).invalid(f, msg));
    if (!f.includes('/') && !standardFinalizers.includes(f)) {
      errs.push(p.index(i).invalid(f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
    return errs;
  });
}

export const namespaces: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  subresources: ['status', 'finalize'],
  // Upstream serves no deletecollection for namespaces.
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  hasStatus: true,
  strategy: {
    nameIsLabel: true,
    defaults: defaultNamespace,
    validate: validateNamespace,
    selectableFields: (ns) => ({ 'status.phase': str(obj(ns.status).phase) }),
  },
};
