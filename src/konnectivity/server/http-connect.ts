// The HTTP-CONNECT frontend leg (upstream's pkg/server/tunnel.go, reference §3.2): kube-apiserver opens one socket
// per dial and sends `CONNECT host:port HTTP/1.1`; the server routes on the request line, answers
// `200 Connection Established` only after the agent's DIAL_RSP succeeded (nothing behind it), or an error status
// whose body is the dial error; then raw bytes flow until either side closes.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { PacketType, type Packet } from '../proto/packet.js';
import type { FrontendLeg } from './frontend.js';

/** Upstream's mapDialErrorToHTTPStatus (PR #765). */
export function dialErrorStatus(error: string): number {
  const e = error.toLowerCase();
  if (/timeout|timed out|deadline exceeded/.test(e)) return 504;
  if (e.includes('too many open files')) return 503;
  return 502;
}

/** A complete HTTP/1.1 error response; the socket is closed after it. */
export function httpError(socket: Socket, status: number, body: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export class ConnectLeg implements FrontendLeg {
  private established = false;

  /** `onEstablished` starts relaying the socket's bytes (the server reads nothing before the 200). */
  constructor(
    private readonly socket: Socket,
    private readonly onEstablished: () => void
  ) {}

  send(p: Packet, written?: () => void): void {
    const s = this.socket;
    if (s.destroyed) return;
    switch (p.type) {
      case PacketType.DIAL_RSP:
        if (p.dialResponse.error !== '') {
          httpError(s, dialErrorStatus(p.dialResponse.error), p.dialResponse.error);
          return;
        }
        s.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        this.established = true;
        this.onEstablished();
        return;
      case PacketType.DATA:
        if (this.established) s.write(p.data.data, written);
        return;
      case PacketType.CLOSE_RSP:
        s.end();
        return;
      case PacketType.DIAL_CLS:
        s.destroy();
        return;
      default:
        return;
    }
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
}
