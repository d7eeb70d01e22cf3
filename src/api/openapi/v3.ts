// OpenAPI 3.0 documents, one per group/version, as upstream serves at /openapi/v3/<api|apis/g>/<v>.
// Built from the swagger 2.0 pieces by the same rewrite kube-openapi's builder3 does for built-in types:
// refs move to #/components/schemas, a $ref with siblings becomes allOf, bodies become requestBody/content.
import { definitions, referencedDefinitions, type Schema } from './definitions.js';
import { resourcePaths } from './paths.js';
import { groupVersionPath, type OpenAPIResource } from './resource.js';
import { sortKeys, type OpenAPIInfo } from './v2.js';

/** kube-openapi's OpenAPIV3OneOfTypes for the Go types that marshal as more than one JSON type. */
const oneOf: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** Rewrites refs and wraps a `$ref` that has siblings (description, patch markers) in `allOf`. */
export function toV3Schema(value: unknown): any {
  if (Array.isArray(value)) return value.map(toV3Schema);
  if (value === null || typeof value !== 'object') return value;
  const { $ref, ...rest } = value as Schema;
  const out: Schema = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, toV3Schema(v)]));
  if (typeof $ref !== 'string') return out;
  const v3Ref = { $ref: $ref.replace('#/definitions/', '#/components/schemas/') };
  return Object.keys(out).length ? { ...out, allOf: [v3Ref] } : v3Ref;
}

function parameterV3({ type, uniqueItems, ...rest }: Schema): Schema {
  return { ...rest, schema: { type, uniqueItems } };
}

function content(types: readonly string[], schema: Schema | undefined): Schema | undefined {
  return schema && Object.fromEntries(types.map((t) => [t, { schema: toV3Schema(schema) }]));
}

function operationV3(op: Schema): Schema {
  const { consumes, produces, schemes: _schemes, parameters = [], responses, ...rest } = op;
  const body = (parameters as Schema[]).find((x) => x.in === 'body');
  const params = (parameters as Schema[]).filter((x) => x.in !== 'body').map(parameterV3);
  return {
    ...rest,
    ...(params.length && { parameters: params }),
    ...(body && { requestBody: { content: content(consumes, body.schema), required: true } }),
    responses: Object.fromEntries(
      Object.entries(responses as Record<string, Schema>).map(([code, r]) => [
        code,
        { description: r.description, ...(r.schema && { content: content(produces, r.schema) }) },
      ])
    ),
  };
}

function pathItemV3(item: Schema): Schema {
  return Object.fromEntries(
    Object.entries(item).map(([k, v]) => [k, k === 'parameters' ? (v as Schema[]).map(parameterV3) : operationV3(v)])
  );
}

/** Group/version paths served, sorted: the keys of the /openapi/v3 index. */
export function groupVersionPaths(resources: readonly OpenAPIResource[]): string[] {
  return [...new Set(resources.map(groupVersionPath))].sort();
}

/** The document for one group/version (`api/v1`, `apis/rbac.authorization.k8s.io/v1`); undefined if not served. */
export function buildOpenAPIV3(
  resources: readonly OpenAPIResource[],
  gvPath: string,
  info: OpenAPIInfo
): Schema | undefined {
  const served = resources.filter((r) => groupVersionPath(r) === gvPath);
  if (!served.length) return undefined;
  const paths: Record<string, Schema> = {};
  for (const r of served) Object.assign(paths, resourcePaths(r));
  const schemas = [...referencedDefinitions(paths)].sort().map((name) => {
    const def = definitions[name]!;
    const special = oneOf[name];
    return [name, special ? { description: def.description, ...special } : toV3Schema(def)];
  });
  return {
    openapi: '3.0.0',
    info: { title: info.title ?? 'Kubernetes', version: info.version },
    paths: Object.fromEntries(Object.entries(sortKeys(paths)).map(([k, v]) => [k, pathItemV3(v)])),
    components: {
      schemas: Object.fromEntries(schemas),
      securitySchemes: {
        BearerToken: {
          type: 'apiKey',
          description: 'Bearer Token authentication',
          name: 'authorization',
          in: 'header',
        },
      },
    },
    security: [{ BearerToken: [] }],
  };
}
