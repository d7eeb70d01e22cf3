// Request metrics with upstream's names (apiserver_request_total, apiserver_request_duration_seconds,
// apiserver_current_inflight_requests), recorded when the response finishes.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Handler, RequestContext } from '../context.js';
import { isLongRunning } from './long-running.js';
import type { InFlightCounts } from './max-in-flight.js';

export interface RequestMetrics {
  observe: (ctx: RequestContext, code: number, seconds: number) => void;
  /** The requests in flight per kind, counted by withMaxInFlight and read by the gauge when scraped. */
  inflight: InFlightCounts;
}

export function newRequestMetrics(registry: Registry): RequestMetrics {
  const labelNames = [
    'verb',
    'dry_run',
    'group',
    'version',
    'resource',
    'subresource',
    'scope',
    'component',
    'code',
  ] as const;
  const total = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [registry],
  });
  const inflight: InFlightCounts = { readOnly: 0, mutating: 0 };
  new Gauge({
    name: 'apiserver_current_inflight_requests',
    help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'],
    registers: [registry],
    // Read when scraped rather than set twice per request (a labelled set hashes its labels each time).
    collect() {
      this.set({ request_kind: 'readOnly' }, inflight.readOnly);
      this.set({ request_kind: 'mutating' }, inflight.mutating);
    },
  });
  return {
    observe(ctx, code, seconds) {
      const ri = ctx.requestInfo;
      const verb = ri.isResourceRequest
        ? ri.verb === 'watch'
          ? 'WATCH'
          : ri.verb === 'list'
            ? 'LIST'
            : ri.verb.toUpperCase()
        : ri.verb.toUpperCase();
      const scope = !ri.isResourceRequest ? '' : ri.name ? 'resource' : ri.namespace ? 'namespace' : 'cluster';
      const labels = {
        verb,
        dry_run: ctx.url.searchParams.has('dryRun') ? 'All' : '',
        group: ri.apiGroup,
        version: ri.apiVersion,
        resource: ri.resource,
        subresource: ri.subresource,
        scope,
        component: 'apiserver',
      };
      total.inc({ ...labels, code: String(code) });
      if (!isLongRunning(ri)) duration.observe(labels, seconds);
    },
    inflight,
  };
}

export function withMetrics(next: Handler, m: RequestMetrics): Handler {
  return async (ctx, req, res) => {
    res.once('finish', () => {
      m.observe(ctx, ctx.statusCode ?? res.statusCode, Number(process.hrtime.bigint() - ctx.startTime) / 1e9);
    });
    return next(ctx, req, res);
  };
}
