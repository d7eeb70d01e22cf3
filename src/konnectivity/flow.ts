// Per-connection flow control on the shared agent stream (upstream #180 has none): each direction of each
// connection may have at most the receiver's window of DATA bytes outstanding; the receiver returns credit in
// WINDOW_UPDATE packets once bytes have left its own buffers (written to the endpoint socket or the frontend).
// A slow reader then fills only its own window and never stops the stream that carries everyone else's bytes.
// Negotiated: each side announces its window in the `hubspoke-window` header (agent: request, server: response);
// a peer that did not announce one (upstream's Go server or agent) gets upstream's behaviour, bounded by pausing.

/** The metadata key both sides announce their per-connection receive window in. */
export const windowHeader = 'hubspoke-window';

/**
 * 4 MiB, the HTTP/2 windows' size (proto/grpc.ts). Credit comes back only once the bytes are written at the far
 * end, three event loops away: at 256 KiB every process of a 1 GiB stream sat ~65 % idle waiting for it (GRPC
 * 0.39× of `ssh -L`, 0.75× at 4 MiB; docs/benchmarks.md). It is also what one stalled reader may hold buffered.
 */
export const defaultWindowBytes = 4 * 1024 * 1024;

/** The peer's announced window, or undefined (an upstream peer: no WINDOW_UPDATE may be sent to it). */
export function parseWindow(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined; // absent, or sent more than once
  const n = Number(value);
  return Number.isInteger(n) && n >= 4096 && n <= 1 << 30 ? n : undefined;
}

/** Credit returned in batches of a quarter window, so a WINDOW_UPDATE costs little next to the DATA it frees. */
export class CreditBatcher {
  private owed = 0;
  constructor(private readonly windowBytes: number) {}

  /** @returns the bytes to grant now, or 0 to keep batching */
  delivered(n: number): number {
    this.owed += n;
    if (this.owed < this.windowBytes / 4) return 0;
    const grant = this.owed;
    this.owed = 0;
    return grant;
  }
}

/**
 * Largest DATA payload we send to an upstream peer: a 64 KiB socket read plus gRPC framing does not fit its
 * default 64 KiB HTTP/2 window, which turns a stream into one message per round trip; 16 KiB pieces (Go's TLS
 * record size, what kube-apiserver sends anyway) keep several in flight.
 */
const maxDataBytes = 16 * 1024;

/**
 * Toward a peer that announced a window (ours: its HTTP/2 windows are 4 MiB, proto/grpc.ts), a whole 64 KiB
 * socket read rides in one DATA: a quarter of the messages, and each costs a frame, a codec pass and a callback on
 * every hop (HTTP-CONNECT 0.62× → 0.80× of `ssh -L`, docs/benchmarks.md).
 */
const maxDataBytesToOurPeers = 64 * 1024;

/** The DATA size limit toward a peer: ours when it announced a window, upstream's otherwise. */
export const maxDataBytesFor = (peerWindow: number | undefined): number =>
  peerWindow === undefined ? maxDataBytes : maxDataBytesToOurPeers;

/** `data` in pieces of at most `max` bytes (views, no copies). */
export function* dataPieces(data: Buffer, max: number): Generator<Buffer> {
  for (let off = 0; off < data.length; off += max) yield data.subarray(off, off + max);
}
