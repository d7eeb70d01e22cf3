// Who is calling: the first authenticator that recognizes a credential decides; none → 401. The credential
// header is removed afterwards so nothing downstream (proxying!) can forward it.
import { newUnauthorized } from '../../api/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Authenticator } from '../authn/interface.js';
import type { Handler } from '../context.js';

export function withAuthentication(next: Handler, authn: Authenticator, log: Logger): Handler {
  return async (ctx, req, res) => {
    let user;
    try {
      user = await authn.authenticate(req);
    } catch (err) {
      // Which check failed (expired, wrong audience, unknown kid, bound pod deleted…) is said here, only.
      log.info(
        { err: err instanceof Error ? err.message : String(err), path: ctx.url.pathname },
        'Unable to authenticate the request'
      );
      // The client learns only that it is not authenticated; the reason is in the server's log.
      throw newUnauthorized();
    }
    if (!user) throw newUnauthorized();
    ctx.user = user;
    delete req.headers.authorization;
    return next(ctx, req, res);
  };
}
