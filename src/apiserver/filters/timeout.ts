// Short requests get a deadline (upstream --request-timeout, 60 s): past it the client gets a 504 Status and
// the handler's late answer is dropped. Long-running requests are exempt.
import { newTimeout } from '../../api/errors.js';
import type { Handler } from '../context.js';
import { writeError } from '../endpoints/responses.js';
import { isLongRunning } from './long-running.js';

export function withTimeout(next: Handler, timeoutMs: number): Handler {
  return async (ctx, req, res) => {
    if (isLongRunning(ctx.requestInfo)) return next(ctx, req, res);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const work = next(ctx, req, res);
    try {
      if ((await Promise.race([work, deadline])) === 'timeout') {
        writeError(
          ctx,
          req,
          res,
          newTimeout('request did not complete within requested timeout - context deadline exceeded')
        );
        work.catch(() => undefined);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}
