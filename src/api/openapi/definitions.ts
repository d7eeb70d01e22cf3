// The schemas scripts/gen-openapi.ts derived from kubernetes-models, under upstream's definition names.
import generated from './generated/definitions.json' with { type: 'json' };

/** A JSON schema as kube-openapi writes it (swagger 2.0 flavour unless said otherwise). */
export type Schema = { [key: string]: any };

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export const definitions: Readonly<Record<string, Schema>> = generated.definitions;

/** Upstream definition names by `group/version/kind`, from each definition's x-kubernetes-group-version-kind. */
const byGVK = new Map<string, string>();
for (const [name, schema] of Object.entries(definitions)) {
  for (const gvk of (schema['x-kubernetes-group-version-kind'] ?? []) as GroupVersionKind[]) {
    byGVK.set(gvkKey(gvk), name);
  }
}

function gvkKey({ group, version, kind }: GroupVersionKind): string {
  return `${group}/${version}/${kind}`;
}

/** `io.k8s.api.core.v1.Pod` for `{group: '', version: 'v1', kind: 'Pod'}`; undefined when not generated. */
export function definitionName(gvk: GroupVersionKind): string | undefined {
  return byGVK.get(gvkKey(gvk));
}

/** Names of every definition `value` references through `$ref`, directly or through other definitions. */
export function referencedDefinitions(value: unknown): Set<string> {
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k !== '$ref' || typeof x !== 'string') {
        visit(x);
        continue;
      }
      const name = x.slice(x.lastIndexOf('/') + 1);
      if (seen.has(name) || !definitions[name]) continue;
      seen.add(name);
      visit(definitions[name]);
    }
  };
  visit(value);
  return seen;
}
