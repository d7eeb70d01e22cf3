// Resolves verb, resource, namespace and name once; authorization and the handlers read it from the context.
import type { Handler } from '../context.js';
import { resolveRequestInfo } from '../request-info.js';

export function withRequestInfo(next: Handler): Handler {
  return async (ctx, req, res) => {
    ctx.requestInfo = resolveRequestInfo(req.method ?? 'GET', ctx.url);
    return next(ctx, req, res);
  };
}
