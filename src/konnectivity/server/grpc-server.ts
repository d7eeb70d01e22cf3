// The server half of ../proto/grpc.ts: routes HTTP/2 streams to the two Konnectivity methods, sends response
// metadata and the status, and keeps sessions alive with HTTP/2 PINGs as grpc-js's keepalive did (a peer that
// does not answer within the timeout is dropped, with every call on it).
import type * as http2 from 'node:http2';
import {
  encodeGrpcMessage,
  GrpcStatus,
  keepSessionAlive,
  PacketStream,
  tunnelWindowBytes,
  type GrpcStatusCode,
  type KeepaliveOptions,
} from '../proto/grpc.js';

export class ServerCall extends PacketStream {
  private headersSent = false;
  private status: { code: GrpcStatusCode; message: string } = { code: GrpcStatus.OK, message: '' };

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    /** The request headers: gRPC's metadata. */
    readonly metadata: http2.IncomingHttpHeaders
  ) {
    super(stream);
    stream.on('wantTrailers', () => stream.sendTrailers(this.trailers()));
  }

  /** A metadata value sent exactly once (node:http2 joins repeats with ", "; a list is never one value here). */
  header(name: string): string | undefined {
    const v = this.metadata[name];
    return typeof v === 'string' && !v.includes(', ') ? v : undefined;
  }

  /** Response headers with this metadata; the first message sends them with none if not sent before. */
  sendMetadata(metadata: Record<string, string>): void {
    if (this.headersSent || this.stream.destroyed) return;
    this.headersSent = true;
    this.stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...metadata }, { waitForTrailers: true });
  }

  protected override beforeWrite(): void {
    this.sendMetadata({});
  }

  /** Ends the call with this status (trailers-only when nothing was sent yet), reading nothing more. */
  fail(code: GrpcStatusCode, message: string): void {
    if (this.finished || this.stream.destroyed) return;
    this.finished = true;
    this.status = { code, message };
    if (this.headersSent) this.stream.end();
    else {
      this.headersSent = true;
      this.stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', ...this.trailers() },
        { endStream: true }
      );
    }
    this.destroy();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finished = true;
    this.sendMetadata({});
    if (!this.stream.destroyed) this.stream.end();
    done();
  }

  private trailers(): http2.OutgoingHttpHeaders {
    const { code, message } = this.status;
    return message
      ? { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) }
      : { 'grpc-status': String(code) };
  }
}

/** Serves gRPC `methods` (by path, e.g. `/agent.AgentService/Connect`) on `server`. @returns close-everything */
export function serveGrpc(
  server: http2.Http2Server | http2.Http2SecureServer,
  methods: Record<string, (call: ServerCall) => void>,
  keepalive: KeepaliveOptions
): () => void {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    keepSessionAlive(session, keepalive);
    session.setLocalWindowSize(tunnelWindowBytes);
    session.on('error', () => session.destroy());
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const contentType = headers['content-type'] ?? '';
    if (headers[':method'] !== 'POST' || !/^application\/grpc(?:$|[+;])/u.test(contentType)) {
      // The gRPC spec's answer to a request that is not gRPC at all: plain HTTP, 415.
      stream.on('error', () => stream.destroy());
      stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end(
        `this is a gRPC server: expected POST with content-type application/grpc, got ${headers[':method']} ${contentType || 'without content-type'}\n`
      );
      return;
    }
    const call = new ServerCall(stream, headers);
    const method = methods[headers[':path'] ?? ''];
    if (!method) return call.fail(GrpcStatus.UNIMPLEMENTED, `unknown method ${headers[':path']}`);
    method(call);
  });
  return () => {
    server.close();
    for (const s of sessions) s.destroy();
  };
}
