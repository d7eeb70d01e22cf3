// Server-side field validation (fieldValidation=Strict|Warn): fields the type's OpenAPI schema does not have,
// named by path as upstream reports them (`spec.containers[0].imagee`).
import { definitionName, definitions, type Schema } from '../../api/openapi/index.js';
import type { KubeObject, ResourceDef } from '../../api/resource.js';

function resolve(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; i < 8 && cur; i++) {
    const ref: string | undefined = cur.$ref ?? cur.allOf?.[0]?.$ref;
    if (!ref) return cur;
    cur = definitions[ref.slice(ref.lastIndexOf('/') + 1)];
  }
  return cur;
}

function walk(value: unknown, schema: Schema | undefined, path: string, out: string[]): void {
  const s = resolve(schema);
  if (!s || value === null || typeof value !== 'object' || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, out));
    return;
  }
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = `${path ? path + '.' : ''}${k}`;
      const prop = s.properties[k] as Schema | undefined;
      if (prop) walk(v, prop, child, out);
      else if (!s.additionalProperties) out.push(child);
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, s.additionalProperties, `${path ? path + '.' : ''}${k}`, out);
  }
}

/** Returns a finder over the generated definitions; kinds without a schema report nothing. */
export function unknownFieldsFinder(): (def: ResourceDef, obj: KubeObject) => string[] {
  return (def, obj) => {
    const name = definitionName({ group: def.group, version: def.version, kind: def.kind });
    if (!name) return [];
    const out: string[] = [];
    walk(obj, definitions[name], '', out);
    return out;
  };
}
