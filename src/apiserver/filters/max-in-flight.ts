// Bounds concurrent work (upstream --max-requests-inflight / --max-mutating-requests-inflight): past the limit a
// request gets 429 with Retry-After instead of queueing without bound. Long-running requests are not counted.
import { StatusError } from '../../api/errors.js';
import type { Handler } from '../context.js';
import { isLongRunning } from './long-running.js';

export interface InFlightLimits {
  readonly: number;
  mutating: number;
}

/** The short requests being served now, per kind. */
export interface InFlightCounts {
  readOnly: number;
  mutating: number;
}

const readonlyVerbs = new Set(['get', 'list', 'watch', 'head', 'options']);

export function withMaxInFlight(next: Handler, limits: InFlightLimits, current: InFlightCounts): Handler {
  return async (ctx, req, res) => {
    if (isLongRunning(ctx.requestInfo)) return next(ctx, req, res);
    const kind = readonlyVerbs.has(ctx.requestInfo.verb) ? 'readOnly' : 'mutating';
    const limit = kind === 'readOnly' ? limits.readonly : limits.mutating;
    if (limit > 0 && current[kind] >= limit) {
      res.setHeader('retry-after', '1');
      throw new StatusError(429, 'TooManyRequests', 'Too many requests, please try again later.', {
        retryAfterSeconds: 1,
      });
    }
    current[kind]++;
    try {
      await next(ctx, req, res);
    } finally {
      current[kind]--;
    }
  };
}
