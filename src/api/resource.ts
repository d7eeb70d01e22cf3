// What the API server needs to know about one resource: identity for URLs and discovery, and the strategy
// (defaults, validation, selectable fields, Table columns) that upstream keeps in pkg/registry/<group>/<resource>.
import type { TableColumnDefinition } from './printers/types.js';
import type { FieldError } from './field.js';
import type { NameValidator } from './validation/names.js';

/** Any API object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: unknown[];
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface ResourceStrategy {
  /** Fill defaults in place (upstream's SetDefaults_*). Called on create and update, before validation. */
  defaults?(obj: KubeObject): void;
  /** Validate a new object; every error, with its field path. Name format is checked by the caller. */
  validate?(obj: KubeObject): FieldError[];
  /** Validate an update; `old` is the stored object. Defaults to `validate(obj)`. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Fields a fieldSelector may use, beyond metadata.name and metadata.namespace (added by the caller),
   * e.g. pods: `spec.nodeName`, `status.phase`. Values as strings, as upstream's GetAttrs.
   */
  selectableFields?(obj: KubeObject): Record<string, string>;
  /** How names are checked when not a DNS subdomain (e.g. Services: DNS-1035 labels). */
  nameValidator?: NameValidator;
  /** Cluster-scoped resources whose names must be DNS labels rather than subdomains (e.g. namespaces). */
  nameIsLabel?: boolean;
  /** When true the name is not validated as a DNS name (e.g. rbac names allow `system:…`, path-segment rules). */
  namePathSegmentOnly?: boolean;
}

export interface TablePrinter {
  /** Upstream's columns for this type (k8s pkg/printers/internalversion/printers.go). Name first. */
  columns: TableColumnDefinition[];
  /** One row of cells for `obj`, in column order. `now` is for ages. */
  cells(obj: KubeObject, now: Date): unknown[];
}

export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, lower case: `pods`. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. `status`, `binding`, `approval`. */
  subresources?: string[];
  /** Verbs for discovery; defaults to the full CRUD set. */
  verbs?: string[];
  /** True when `status` is a subresource: the main resource ignores status changes and vice versa. */
  hasStatus?: boolean;
  strategy: ResourceStrategy;
  table?: TablePrinter;
}

export const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
