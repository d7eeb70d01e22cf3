// The swagger 2.0 document upstream serves at /openapi/v2 (kube-openapi builder.BuildOpenAPISpec).
import { definitions, type Schema } from './definitions.js';
import { resourcePaths } from './paths.js';
import type { OpenAPIResource } from './resource.js';

export interface OpenAPIInfo {
  /** @default 'Kubernetes' */
  title?: string;
  /** The server's gitVersion, e.g. `v1.33.0`. */
  version: string;
}

export function buildOpenAPIV2(resources: readonly OpenAPIResource[], info: OpenAPIInfo): Schema {
  const paths: Record<string, Schema> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r));
  return {
    swagger: '2.0',
    info: { title: info.title ?? 'Kubernetes', version: info.version },
    paths: sortKeys(paths),
    definitions,
    securityDefinitions: {
      BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' },
    },
    security: [{ BearerToken: [] }],
  };
}

export function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
