// The authorization seam (k8s apiserver pkg/authorization/authorizer): attributes in, a decision out.
// Authorizers are consulted in order by a union; the filter lets only `allow` through.
import type { ResourceRule as TypesResourceRule, SubjectRulesReviewStatus } from 'kubernetes-types/authorization/v1.js';
import type { Requirement } from '../../api/selectors.js';

/** Who is asking (k8s user.Info), as the authentication filter resolved it. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What is being asked (k8s authorizer.AttributesRecord), built from the request info and the user. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  /** False for non-resource URLs (`/version`, `/healthz`), where only `verb` and `path` matter. */
  resourceRequest: boolean;
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /**
   * A list, watch or deletecollection's field selector (upstream AuthorizeWithSelectors): the Node authorizer
   * lets a node list pods only with `spec.nodeName=<itself>`. Absent when none was given or it did not parse.
   */
  fieldSelector?: readonly Requirement[];
}

/** `deny` ends the union at once; `noOpinion` lets the next authorizer decide (and is a 403 if none does). */
export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizerResult {
  decision: Decision;
  /** Why, for humans: appended to the 403 message and returned in SubjectAccessReview status. May be empty. */
  reason: string;
}

export interface Authorizer {
  /**
   * Called once per request after authentication. Must not mutate `a`. Throws only when it could not
   * evaluate at all (the filter answers 500); an unknown subject or missing role is `noOpinion`.
   */
  authorize(a: Attributes): Promise<AuthorizerResult>;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Asks each authorizer in turn; the first `allow` or `deny` wins (k8s authorizer/union). If none decides,
 * the reasons are joined with newlines; if any authorizer threw, the errors are re-thrown together so the
 * filter answers 500 rather than a misleading 403.
 */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return {
    async authorize(a) {
      const reasons: string[] = [];
      const errors: unknown[] = [];
      for (const authorizer of authorizers) {
        let result: AuthorizerResult;
        try {
          result = await authorizer.authorize(a);
        } catch (err) {
          errors.push(err);
          continue;
        }
        if (result.decision !== 'noOpinion') return result;
        if (result.reason) reasons.push(result.reason);
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, aggregateMessage(errors.map(errorText)));
      return { decision: 'noOpinion', reason: reasons.join('\n') };
    },
  };
}

/** Go's %q for the printable names that reach these messages. */
const quote = (s: string): string => JSON.stringify(s);

// Upstream sanitises its own text (not the authorizer's reason) so the message never looks like HTML.
const sanitize = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * The text after `<resource> "<name>" is forbidden: ` in a 403 (k8s responsewriters.Forbidden):
 * `User "alice" cannot list resource "pods" in API group "" in the namespace "default": <reason>`.
 */
export function forbiddenMessage(a: Attributes, reason: string): string {
  let msg: string;
  if (!a.resourceRequest) {
    msg = `User ${quote(a.user.name)} cannot ${a.verb} path ${quote(a.path)}`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace ${quote(a.namespace)}` : 'at the cluster scope';
    msg = `User ${quote(a.user.name)} cannot ${a.verb} resource ${quote(resource)} in API group ${quote(a.apiGroup)} ${scope}`;
  }
  msg = sanitize(msg);
  return reason ? `${msg}: ${reason}` : msg;
}

/** authorization/v1 ResourceRule; kubernetes-types' copy lacks `verbs` and `resources`. */
export interface ResourceRule extends TypesResourceRule {
  verbs: string[];
  resources?: string[];
}

/** SelfSubjectRulesReview's status, with the complete ResourceRule. */
export interface RulesReviewStatus extends Omit<SubjectRulesReviewStatus, 'resourceRules'> {
  resourceRules: ResourceRule[];
}

/** What `SelfSubjectRulesReview` reports (k8s authorizer.RuleResolver); `incomplete` when an authorizer cannot enumerate. */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RulesReviewStatus;
}

/** Concatenates every resolver's rules; incomplete if any is (k8s unionAuthzRulesHandler). */
export function unionRuleResolver(...resolvers: RuleResolver[]): RuleResolver {
  return {
    rulesFor(user, namespace) {
      const out: RulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      for (const resolver of resolvers) {
        const r = resolver.rulesFor(user, namespace);
        out.resourceRules.push(...r.resourceRules);
        out.nonResourceRules.push(...r.nonResourceRules);
        out.incomplete ||= r.incomplete;
        if (r.evaluationError) errors.push(r.evaluationError);
      }
      if (errors.length > 0) out.evaluationError = aggregateMessage(errors);
      return out;
    },
  };
}

/** apimachinery's utilerrors.NewAggregate text: one message alone, several as `[a, b]`, duplicates dropped. */
export function aggregateMessage(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}
