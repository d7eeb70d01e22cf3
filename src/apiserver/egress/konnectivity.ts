// The `GRPC` egress dialer (upstream's konnectivity-client as kube-apiserver uses it): each dial is one
// `ProxyService/Proxy` stream to the konnectivity server over its Unix socket — DIAL_REQ with a random int63 →
// DIAL_RSP with the agent's connectID → DATA both ways → CLOSE_REQ / CLOSE_RSP. The streams share one HTTP/2
// connection (konnectivity-client's reusable tunnel; upstream's apiserver still opens one per dial).
import { randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import type { StatusError } from '../../api/errors.js';
import { newServiceUnavailable, newTimeout } from '../../api/errors.js';
import { ClientCall, connectTunnelSession, type GrpcError } from '../../konnectivity/proto/grpc.js';
import { PacketType, proxyServiceDefinition, type Packet } from '../../konnectivity/proto/packet.js';
import type { DialOptions, EgressDialer } from './dialer.js';

/** How long CLOSE_RSP is awaited after CLOSE_REQ before the stream is cancelled (konnectivity-client's CloseTimeout). */
const CLOSE_TIMEOUT_MS = 10_000;

const MAX_DATA_BYTES = 32 * 1024;

type Stream = ClientCall;

/** Go's rand.Int63(): uniform over [1, 2^63), so usually above 2^53 — it must stay a bigint. */
function randomInt63(): bigint {
  const n = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return n === 0n ? 1n : n;
}

/** A DIAL_RSP error as the API server reports it: a node with no agent is "no tunnel", a timeout is 504. */
function dialError(address: string, error: string): StatusError {
  if (error === 'No agent available')
    return newServiceUnavailable(`no tunnel to the node: no konnectivity agent serves ${address}`);
  const msg = `konnectivity: ${error}`;
  return /timeout|timed out|deadline exceeded/i.test(error) ? newTimeout(msg) : newServiceUnavailable(msg);
}

export class KonnectivityDialer implements EgressDialer {
  readonly name = 'konnectivity';
  readonly #udsName: string;
  readonly #target: string;
  #session?: ClientHttp2Session;

  constructor(o: { udsName: string }) {
    this.#udsName = o.udsName;
    this.#target = `unix:${o.udsName}`;
  }

  /** A new `Proxy` stream on the shared connection, opened again once lost (the server restarted). */
  #proxy(): Stream {
    let session = this.#session;
    if (!session || session.closed || session.destroyed) {
      session = connectTunnelSession('http://konnectivity-server', { createConnection: () => connect(this.#udsName) });
      this.#session = session;
    }
    return new ClientCall(session, proxyServiceDefinition.Proxy.path, {});
  }

  close(): void {
    this.#session?.destroy();
    this.#session = undefined;
  }

  dial(network: 'tcp', address: string, options: DialOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const random = randomInt63();
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const stream = this.#proxy();
      let settled = false;
      const fail = (err: StatusError): void => {
        if (settled) return;
        settled = true;
        cleanup();
        // Tell the server to forget the pending dial; our agent also stops dialling on it.
        if (!stream.writableEnded) stream.write({ type: PacketType.DIAL_CLS, closeDial: { random } });
        stream.end();
        setTimeout(() => stream.cancel(), 1000).unref();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(newTimeout(`dial tcp ${address}: i/o timeout (no answer through the konnectivity tunnel)`)),
        timeoutMs
      );
      const onAbort = (): void => fail(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const onError = (err: GrpcError): void =>
        fail(newServiceUnavailable(`konnectivity server at ${this.#target}: ${err.message}`));
      const onEnd = (): void => fail(newServiceUnavailable(`konnectivity server at ${this.#target} ended the dial`));
      const onPacket = (p: Packet): void => {
        if (p.type === PacketType.DIAL_CLS) return fail(newServiceUnavailable(`dial tcp ${address}: dial closed`));
        if (p.type !== PacketType.DIAL_RSP || p.dialResponse.random !== random) return;
        if (p.dialResponse.error !== '') return fail(dialError(address, p.dialResponse.error));
        settled = true;
        cleanup();
        resolve(new TunnelConnection(stream, p.dialResponse.connectID));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        stream.off('data', onPacket);
        stream.off('error', onError);
        stream.off('end', onEnd);
        // A failed dial may still see the stream error out later; nobody waits for it.
        stream.on('error', () => {});
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', onPacket);
      stream.once('error', onError);
      stream.once('end', onEnd);
      stream.write({ type: PacketType.DIAL_REQ, dialRequest: { protocol: network, address, random } });
    });
  }
}

/** One established connection: a Duplex over DATA packets of one connectID; no half-close, as upstream. */
class TunnelConnection extends Duplex {
  #closing = false;

  constructor(
    private readonly stream: Stream,
    private readonly connectID: bigint
  ) {
    super({ allowHalfOpen: false });
    stream.on('data', (p: Packet) => this.#fromServer(p));
    stream.on('error', (err: GrpcError) => {
      if (!this.#closing) this.destroy(new Error(`konnectivity tunnel: ${err.message}`));
    });
    stream.on('end', () => this.push(null));
  }

  #fromServer(p: Packet): void {
    switch (p.type) {
      case PacketType.DATA:
        if (p.data.connectID !== this.connectID || this.destroyed || this.readableEnded) return;
        if (!this.push(p.data.data)) this.stream.pause();
        return;
      case PacketType.CLOSE_RSP:
        // The node side closed (or answered our CLOSE_REQ): the whole connection ends.
        if (p.closeResponse.connectID !== this.connectID) return;
        this.#closing = true;
        this.push(null);
        if (!this.stream.writableEnded) this.stream.end();
        if (p.closeResponse.error) this.destroy(new Error(`konnectivity tunnel: ${p.closeResponse.error}`));
        return;
      default:
        return;
    }
  }

  override _read(): void {
    this.stream.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#send(chunk, done);
  }

  // What the TLS socket above wrote in one go (its records, corked by the relays) rides in as few DATA as fit:
  // every packet costs a gRPC message on each hop, whatever its size.
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), done);
  }

  #send(chunk: Buffer, done: (err?: Error | null) => void): void {
    if (this.#closing || this.stream.writableEnded) return done(new Error('konnectivity tunnel: connection closed'));
    // At most 32 KiB per DATA (upstream's server reads that much at a time): a window's worth never rides in one packet.
    let ok = true;
    for (let i = 0; i < chunk.length; i += MAX_DATA_BYTES)
      ok = this.stream.write({
        type: PacketType.DATA,
        data: { connectID: this.connectID, error: '', data: chunk.subarray(i, i + MAX_DATA_BYTES) },
      });
    if (ok) done();
    else this.stream.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#sendClose();
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.#sendClose();
    done(err);
  }

  /** CLOSE_REQ; the CLOSE_RSP ends the stream, or after CLOSE_TIMEOUT_MS it is cancelled. */
  #sendClose(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.stream.writableEnded) return;
    this.stream.write({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: this.connectID } });
    const timer = setTimeout(() => this.stream.cancel(), CLOSE_TIMEOUT_MS);
    timer.unref();
    this.stream.once('close', () => clearTimeout(timer));
    this.stream.resume(); // keep reading: the CLOSE_RSP is behind any DATA still in flight
  }
}
