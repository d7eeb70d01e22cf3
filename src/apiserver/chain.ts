// The ONE place that orders the API server's filters (upstream DefaultBuildHandlerChain). Innermost first: the
// last wrap runs first. Keep in step with docs/architecture.md.
import type { Logger } from '../lib/log.js';
import type { Authenticator } from './authn/interface.js';
import type { Authorizer } from './authz/interface.js';
import type { Handler } from './context.js';
import { withAuthentication } from './filters/authentication.js';
import { withAuthorization } from './filters/authorization.js';
import { withImpersonation } from './filters/impersonation.js';
import { withMaxInFlight, type InFlightLimits } from './filters/max-in-flight.js';
import { withMetrics, type RequestMetrics } from './filters/metrics.js';
import { withPanicRecovery } from './filters/panic-recovery.js';
import { withRequestInfo } from './filters/request-info.js';
import { withTimeout } from './filters/timeout.js';

export interface ChainConfig {
  authenticator: Authenticator;
  authorizer: Authorizer;
  limits: InFlightLimits;
  requestTimeoutMs: number;
  metrics: RequestMetrics;
  log: Logger;
}

export function buildHandlerChain(api: Handler, c: ChainConfig): Handler {
  let h = api; // endpoints: decode → admission → registry → storage
  h = withAuthorization(h, c.authorizer); // needs the user and the request info; 403 unless allowed
  h = withMaxInFlight(h, c.limits, c.metrics.inflight); // after authn so anonymous floods cannot starve users
  h = withImpersonation(h, c.authorizer); // after authn: the caller must be allowed to `impersonate`; 403 if not
  h = withAuthentication(h, c.authenticator, c.log); // 401 when no credential is recognized
  h = withTimeout(h, c.requestTimeoutMs); // long-running requests (watch, exec, proxy, logs) exempt
  h = withMetrics(h, c.metrics); // counts every answer, 401 and 403 included
  h = withRequestInfo(h); // everything above reads verb/resource/namespace
  return withPanicRecovery(h, c.log); // outermost: any throw becomes a Status
}
