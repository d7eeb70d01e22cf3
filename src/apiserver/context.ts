// The per-request context handed down the filter chain (the role of Go's request context accessors).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { RequestInfo } from './request-info.js';
import type { UserInfo } from './authz/interface.js';

export type Request = IncomingMessage | Http2ServerRequest;
export type Response = ServerResponse | Http2ServerResponse;

export interface RequestContext {
  readonly url: URL;
  requestInfo: RequestInfo;
  user?: UserInfo;
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
  /** Set for HTTP/1.1 `Connection: Upgrade` requests (exec, attach, port-forward, proxy): the raw socket. */
  readonly upgrade?: { socket: Duplex; head: Buffer };
  /** Warnings sent back as `Warning: 299 - "…"` headers (kubectl prints them). */
  readonly warnings: string[];
  readonly startTime: bigint;
  /** Recorded by the endpoint for metrics: the HTTP status finally written. */
  statusCode?: number;
}

export type Handler = (ctx: RequestContext, req: Request, res: Response) => Promise<void>;
