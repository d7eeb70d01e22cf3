// The two kinds of frontend leg the server relays agents' packets to: a gRPC `Proxy` stream (packets as they are)
// and an HTTP-CONNECT socket (packets turned into a status line and raw bytes). Both are one dial each.
import type { Packet } from '../proto/packet.js';
import type { ServerCall } from './grpc-server.js';

export interface FrontendLeg {
  /** A packet for the frontend; `written` once its bytes left our buffers (the flow-control credit point). */
  send(p: Packet, written?: () => void): void;
  /** Stop / restart reading what the frontend sends (backpressure toward it). */
  pause(): void;
  resume(): void;
  end(): void;
}

export class GrpcLeg implements FrontendLeg {
  constructor(readonly stream: ServerCall) {}

  send(p: Packet, written?: () => void): void {
    const s = this.stream;
    if (s.writableEnded || s.destroyed) return;
    s.write(p, written && (() => written()));
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  end(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }
}
