import type { ResourceDef } from '../resource.js';

/** What the OpenAPI documents need to know about one served resource; a ResourceDef fits. */
export type OpenAPIResource = Pick<ResourceDef, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'> & {
  readonly subresources?: readonly string[];
  /** Verbs served; defaults to the full CRUD set. */
  readonly verbs?: readonly string[];
};

/** `api/v1`, `apis/coordination.k8s.io/v1`: the key of the /openapi/v3 index (no leading slash, as upstream). */
export function groupVersionPath(r: Pick<ResourceDef, 'group' | 'version'>): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}
