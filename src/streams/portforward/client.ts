// The client side of SPDY port-forward, as kubectl drives it (§5.2): per connection an error stream (half-closed at
// once, only read) then a data stream, both with `port` and a fresh `requestid`. For the API server's own use and
// for tests of a kubelet; kubectl's WebSocket tunnel is relayed byte for byte and needs nothing from here.
import type { SpdyConnection, SpdyStream } from '../spdy/connection.js';

export interface PortForwardStream {
  /** The forwarded bytes, both ways; end() half-closes toward the pod. */
  data: SpdyStream;
  /** What the server wrote on the error stream (empty when nothing went wrong), once it ended. */
  error: Promise<string>;
}

export class PortForwardClient {
  private nextRequestId = 0;

  constructor(readonly connection: SpdyConnection) {}

  async open(port: number): Promise<PortForwardStream> {
    const requestid = String(this.nextRequestId++);
    const headers = { port: String(port), requestid };
    const errorStream = await this.connection.openStream({ ...headers, streamtype: 'error' });
    errorStream.end();
    const chunks: Buffer[] = [];
    errorStream.on('data', (c: Buffer) => chunks.push(c));
    const error = new Promise<string>((resolve) => {
      const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
      errorStream.once('end', done);
      errorStream.once('close', done);
    });
    const data = await this.connection.openStream({ ...headers, streamtype: 'data' });
    return { data, error };
  }

  close(): void {
    this.connection.close();
  }
}
