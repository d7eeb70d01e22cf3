// TokenReview and SelfSubjectReview (k8s pkg/registry/authentication/{tokenreview,selfsubjectreview}).
import { newBadRequest } from '../../../api/errors.js';
import { rfc3339 } from '../../../api/meta.js';
import type { KubeObject } from '../../../api/resource.js';
import { obj, str } from '../../../api/validation/json.js';
import { selfsubjectreviews, tokenreviews } from '../../../api/resources/authentication.k8s.io/reviews.js';
import type { Logger } from '../../../lib/log.js';
import { addAuthenticatedGroup, type TokenAuthenticator } from '../../authn/interface.js';
import type { UserInfo } from '../../authz/interface.js';
import type { Review } from '../reviews.js';

/** authentication/v1 UserInfo: `username`, not `name`; empty fields left out as Go's omitempty does. */
export function wireUserInfo(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name };
  if (u.uid) out.uid = u.uid;
  if (u.groups.length) out.groups = u.groups;
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}

export interface AuthenticationReviewsConfig {
  tokens: TokenAuthenticator;
  apiAudiences: readonly string[];
  log: Logger;
}

export function authenticationReviews(c: AuthenticationReviewsConfig): Review[] {
  // The full token path, system:authenticated included, as a real request with this token would get.
  const authenticate = async (token: string, audiences: readonly string[]) => {
    const r = await c.tokens.authenticateToken(token, audiences);
    return r && { user: addAuthenticatedGroup(r.user), audiences: r.audiences };
  };
  return [
    {
      def: tokenreviews,
      handle: async (ctx, review) => {
        if (ctx.requestInfo.namespace)
          throw newBadRequest(`namespace is not allowed on this type: ${ctx.requestInfo.namespace}`);
        const spec = obj(review.spec);
        const token = str(spec.token);
        if (!token) throw newBadRequest('token is required for TokenReview in authentication');
        const asked = Array.isArray(spec.audiences) ? spec.audiences.filter((a) => typeof a === 'string') : [];
        const audiences = asked.length ? asked : c.apiAudiences;
        const status: Record<string, unknown> = { authenticated: false, user: {} };
        try {
          const r = await authenticate(token, audiences);
          if (r) {
            status.authenticated = true;
            status.user = wireUserInfo(r.user);
            status.audiences = r.audiences;
          }
        } catch (err) {
          // A bad token is an answer (200 family, authenticated: false), not an error of this request.
          const message = err instanceof Error ? err.message : String(err);
          c.log.info({ err: message, requester: ctx.user?.name }, 'TokenReview: token rejected');
          status.error = message;
        }
        return { ...review, status } satisfies KubeObject;
      },
    },
    {
      def: selfsubjectreviews,
      alsoVersions: ['v1beta1', 'v1alpha1'],
      handle: async (ctx, review) => {
        if (!ctx.user) throw newBadRequest('no user present on request');
        return {
          ...review,
          metadata: { ...review.metadata, creationTimestamp: rfc3339() },
          status: { userInfo: wireUserInfo(ctx.user) },
        };
      },
    },
  ];
}
