// May this user do this: anything but `allow` is a 403 with upstream's message.
import { newForbidden, StatusError } from '../../api/errors.js';
import type { Authorizer, Attributes } from '../authz/interface.js';
import { forbiddenMessage } from '../authz/interface.js';
import type { Handler, RequestContext } from '../context.js';
import { fieldSelectorRequirements } from '../request-info.js';

export function attributesFor(ctx: RequestContext): Attributes {
  const ri = ctx.requestInfo;
  return {
    user: ctx.user!,
    verb: ri.verb,
    resourceRequest: ri.isResourceRequest,
    path: ri.path,
    apiGroup: ri.apiGroup,
    apiVersion: ri.apiVersion,
    resource: ri.resource,
    subresource: ri.subresource,
    namespace: ri.namespace,
    name: ri.name,
    fieldSelector: ['list', 'watch', 'deletecollection'].includes(ri.verb)
      ? fieldSelectorRequirements(ctx.url)
      : undefined,
  };
}

export function withAuthorization(next: Handler, authz: Authorizer): Handler {
  return async (ctx, req, res) => {
    const attrs = attributesFor(ctx);
    const { decision, reason } = await authz.authorize(attrs);
    if (decision === 'allow') return next(ctx, req, res);
    const message = forbiddenMessage(attrs, reason);
    if (!attrs.resourceRequest) throw new StatusError(403, 'Forbidden', `forbidden: ${message}`, {});
    throw newForbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, message);
  };
}
