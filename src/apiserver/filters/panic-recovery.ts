// Outermost filter: nothing a handler throws may take the server down or leave the client hanging.
import type { Logger } from '../../lib/log.js';
import type { Handler } from '../context.js';
import { toStatusError, writeError } from '../endpoints/responses.js';

export function withPanicRecovery(next: Handler, log: Logger): Handler {
  return async (ctx, req, res) => {
    try {
      await next(ctx, req, res);
    } catch (err) {
      const se = toStatusError(err);
      if (se.code >= 500) log.error({ err, path: ctx.url.pathname, verb: ctx.requestInfo?.verb }, 'request failed');
      writeError(ctx, req, res, se);
    }
  };
}
