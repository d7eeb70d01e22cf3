// ClusterRole aggregation (k8s pkg/controller/clusterroleaggregation): a role with an aggregationRule gets
// the union of the rules of every other ClusterRole its selectors match. The API server applies it at
// bootstrap so admin/edit/view are usable before any controller runs.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';

/**
 * metav1.LabelSelectorAsSelector: every matchLabels pair and every expression must hold; an empty selector
 * matches everything. Validation rejects unknown operators at write time, so they match nothing here.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

// Semantic equality: apimachinery treats a missing list and an empty one as equal.
function ruleKey(r: PolicyRule): string {
  return JSON.stringify([
    r.verbs,
    r.apiGroups ?? [],
    r.resources ?? [],
    r.resourceNames ?? [],
    r.nonResourceURLs ?? [],
  ]);
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One pass of the aggregation controller for `role`: for each selector in turn, the matching roles (by
 * name, never `role` itself) contribute their current rules, duplicates dropped, first occurrence kept.
 * Returns `role.rules` unchanged when it has no aggregationRule.
 */
export function aggregateClusterRole(role: ClusterRole, allRoles: readonly ClusterRole[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors) return role.rules ?? [];
  const byName = [...allRoles].sort((a, b) => compare(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  const seen = new Set<string>();
  const rules: PolicyRule[] = [];
  for (const selector of selectors) {
    for (const other of byName) {
      if (other.metadata?.name === role.metadata?.name) continue;
      if (!labelSelectorMatches(selector, other.metadata?.labels ?? {})) continue;
      for (const rule of other.rules ?? []) {
        const key = ruleKey(rule);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push(rule);
      }
    }
  }
  return rules;
}

/**
 * Runs aggregation to a fixed point, as the controller does over time: view feeds edit feeds admin, in
 * whatever order the roles come. Returns new role objects; the input is not modified.
 */
export function aggregateClusterRoles(roles: readonly ClusterRole[]): ClusterRole[] {
  const current = roles.map((r) => ({ ...r }));
  const aggregated = current.filter((r) => r.aggregationRule);
  // Each pass settles at least one more level of the aggregation graph; a cycle stops growing after as many.
  for (let pass = 0; pass <= aggregated.length; pass++) {
    let changed = false;
    for (const role of aggregated) {
      const rules = aggregateClusterRole(role, current);
      if (JSON.stringify(rules.map(ruleKey)) === JSON.stringify((role.rules ?? []).map(ruleKey))) continue;
      role.rules = rules;
      changed = true;
    }
    if (!changed) break;
  }
  return current;
}
