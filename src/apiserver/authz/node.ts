// The Node authorizer (`--authorization-mode=Node`; k8s plugin/pkg/auth/authorizer/node/node_authorizer.go, with
// AuthorizeNodeWithSelectors on as in 1.32+): a kubelet reads its own Node, the pods bound to it, and only the
// secrets, configmaps, claims and service-account tokens those pods name, one object at a time. What it may
// write is checked here by kind and narrowed to itself by NodeRestriction admission. It answers allow or
// noOpinion (with a reason), never deny, so RBAC may still grant a node more.
import { bootstrapClusterRoles } from './bootstrap-policy.js';
import type { Attributes, Authorizer, AuthorizerResult, RuleResolver, UserInfo } from './interface.js';
import type { NodeGraph, VertexType } from './node-graph.js';
import { ruleAllows } from './rbac.js';

export const nodesGroup = 'system:nodes';
const nodeUserPrefix = 'system:node:';
export const nodeLeaseNamespace = 'kube-node-lease';

/**
 * k8s pkg/auth/nodeidentifier: a user named `system:node:<name>` in group `system:nodes` is the node `<name>`;
 * `undefined` for anyone else. The name may be empty (an unidentifiable node), which callers refuse.
 */
export function nodeIdentity(user: UserInfo | undefined): string | undefined {
  if (!user?.name.startsWith(nodeUserPrefix) || !user.groups.includes(nodesGroup)) return undefined;
  return user.name.slice(nodeUserPrefix.length);
}

/** The `system:node` ClusterRole's rules (upstream NodeRules), for what the graph does not subdivide. */
const nodeRules = bootstrapClusterRoles().find((r) => r.metadata?.name === 'system:node')?.rules ?? [];

const allow: AuthorizerResult = { decision: 'allow', reason: '' };
const noOpinion = (reason = ''): AuthorizerResult => ({ decision: 'noOpinion', reason });

export class NodeAuthorizer implements Authorizer, RuleResolver {
  constructor(private readonly graph: NodeGraph) {}

  async authorize(a: Attributes): Promise<AuthorizerResult> {
    const node = nodeIdentity(a.user);
    if (node === undefined) return noOpinion();
    if (node === '') return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);
    if (a.resourceRequest) {
      const decided = this.#subdivided(node, a);
      if (decided) return decided;
    }
    return nodeRules.some((rule) => ruleAllows(a, rule)) ? allow : noOpinion();
  }

  /** Nodes have no enumerable rules: what they may read depends on the graph. */
  rulesFor(user: UserInfo): ReturnType<RuleResolver['rulesFor']> {
    if (nodeIdentity(user) === undefined) return { resourceRules: [], nonResourceRules: [], incomplete: false };
    return {
      resourceRules: [],
      nonResourceRules: [],
      incomplete: true,
      evaluationError: 'node authorizer does not support user rule resolution',
    };
  }

  /** The kinds decided per object; `undefined` leaves the request to the static node rules. */
  #subdivided(node: string, a: Attributes): AuthorizerResult | undefined {
    const gr = `${a.resource}.${a.apiGroup}`;
    switch (gr) {
      case 'secrets.':
        return this.#readNamespaced(node, 'secret', a);
      case 'configmaps.':
        return this.#readNamespaced(node, 'configmap', a);
      case 'persistentvolumeclaims.':
        return a.subresource === 'status' ? this.#statusUpdate(node, a) : this.#get(node, 'persistentvolumeclaim', a);
      case 'serviceaccounts.':
        return this.#createToken(node, a);
      case 'leases.coordination.k8s.io':
        return this.#lease(node, a);
      case 'nodes.':
        return this.#node(node, a);
      case 'pods.':
        return this.#pod(node, a);
      default:
        return undefined;
    }
  }

  #related(node: string, type: VertexType, a: Attributes): AuthorizerResult {
    if (!a.name) return noOpinion('No Object name found');
    return this.graph.hasPathFrom(node, type, a.namespace, a.name)
      ? allow
      : noOpinion(`no relationship found between node '${node}' and this object`);
  }

  #readNamespaced(node: string, type: VertexType, a: Attributes): AuthorizerResult {
    if (!['get', 'list', 'watch'].includes(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return this.#related(node, type, a);
  }

  #get(node: string, type: VertexType, a: Attributes): AuthorizerResult {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource) return noOpinion('cannot get subresource');
    return this.#related(node, type, a);
  }

  #statusUpdate(node: string, a: Attributes): AuthorizerResult {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    return this.#related(node, 'persistentvolumeclaim', a);
  }

  #createToken(node: string, a: Attributes): AuthorizerResult {
    if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.#related(node, 'serviceaccount', a);
  }

  #lease(node: string, a: Attributes): AuthorizerResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb))
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== nodeLeaseNamespace)
      return noOpinion(`can only access leases in the "${nodeLeaseNamespace}" system namespace`);
    // A create carries its name only in the body: NodeRestriction checks it.
    if (a.verb !== 'create' && a.name !== node)
      return noOpinion('can only access node lease with the same name as the requesting node');
    return allow;
  }

  #node(node: string, a: Attributes): AuthorizerResult {
    if (a.subresource === '') {
      // Writes are narrowed to the node's own object by NodeRestriction.
      if (['create', 'update', 'patch'].includes(a.verb)) return allow;
      if (['get', 'list', 'watch'].includes(a.verb)) {
        // By name, not through the graph, so a kubelet can look for its Node before creating it.
        if (a.name === node) return allow;
        if (a.name === '') return noOpinion(`node '${node}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return allow;
    }
    return noOpinion();
  }

  #pod(node: string, a: Attributes): AuthorizerResult {
    switch (a.subresource) {
      case '':
        if (a.verb === 'get') return this.#get(node, 'pod', a);
        if (a.verb === 'list' || a.verb === 'watch') {
          const scoped = a.fieldSelector?.some(
            (r) => r.key === 'spec.nodeName' && r.op === '=' && r.values.length === 1 && r.values[0] === node
          );
          if (scoped) return allow;
          if (a.name) return this.#related(node, 'pod', a);
          return noOpinion('can only list/watch pods with spec.nodeName field selector');
        }
        // Mirror pods; NodeRestriction allows only mirror pods bound to this node.
        if (a.verb === 'create' || a.verb === 'delete') return allow;
        return noOpinion();
      case 'status':
        return a.verb === 'update' || a.verb === 'patch' ? allow : noOpinion();
      case 'eviction':
        return a.verb === 'create' ? allow : noOpinion();
      default:
        return noOpinion();
    }
  }
}
