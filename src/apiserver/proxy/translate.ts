// Serving a kubectl WebSocket against a kubelet that speaks only SPDY (an upstream kubelet without
// ExtendWebSocketsToKubelet, streaming.md §2.3, §3.6). relay.ts first offers the WebSocket to the kubelet as it
// came; only when the kubelet refuses it does this run, on a fresh connection:
// - exec/attach: upstream's StreamTranslatorHandler — the API server accepts the client's WebSocket itself and
//   runs a SPDY client toward the kubelet, channels ⇄ streams (bridgeRemoteCommand), the kubelet's Status last;
// - port-forward: upstream's TunnelingHandler — a SPDY upgrade to the kubelet, then the client's WebSocket
//   (`SPDY/3.1+portforward.k8s.io`) carries those SPDY bytes end to end.
// The kubelet is dialled before the client's WebSocket is accepted, so a kubelet refusal (unknown pod, bad
// container) reaches kubectl as a non-101 with the kubelet's Status, and kubectl falls back to SPDY and prints it.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { StatusError, type StatusReason } from '../../api/errors.js';
import type { Logger } from '../../lib/log.js';
import { relay } from '../../lib/relay.js';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  UpgradeFailure,
  acceptRemoteCommand,
  acceptWebSocket,
  bridgeRemoteCommand,
  dialSpdy,
  dialSpdyUpgrade,
  rejectUpgrade,
  spdyRemoteCommandClient,
  webSocketDuplex,
  type RemoteCommandOptions,
} from '../../streams/index.js';
import type { RequestContext, Request } from '../context.js';
import type { Backend } from './relay.js';

export interface Translation {
  ctx: RequestContext;
  req: Request;
  /** Opens a new connection to the kubelet (the refused one is gone); path is the kubelet's. */
  kubelet: () => Promise<Backend>;
  log: Logger;
}

const reasons: Record<number, StatusReason> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound' };

/** The kubelet's refusal of the SPDY upgrade as the Status the client gets (its text, as upstream relays it). */
function refusal(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof UpgradeFailure) {
    const code = err.statusCode >= 400 ? err.statusCode : 502;
    const reason = (err.status?.reason as StatusReason | undefined) ?? reasons[code] ?? 'InternalError';
    return new StatusError(code, reason, err.status?.message ?? (err.body.trim() || err.message));
  }
  return new StatusError(502, 'InternalError', `error dialing backend: ${(err as Error).message}`);
}

async function dialKubelet<T>(t: Translation, dial: (url: string, socket: Duplex) => Promise<T>): Promise<T> {
  const b = await t.kubelet();
  try {
    return await dial(`https://${b.host}${b.path}`, b.socket);
  } catch (err) {
    b.socket.destroy();
    throw err;
  }
}

/** exec/attach: the client's WebSocket (any channel.k8s.io version) ⇄ SPDY toward the kubelet. */
export async function translateRemoteCommand(t: Translation, options: RemoteCommandOptions): Promise<boolean> {
  const client = t.ctx.upgrade!.socket;
  let spdy: Awaited<ReturnType<typeof dialSpdy>>;
  try {
    spdy = await dialKubelet(t, (url, socket) =>
      dialSpdy(url, CLIENT_REMOTE_COMMAND_PROTOCOLS, { createConnection: () => socket })
    );
  } catch (err) {
    const status = refusal(err);
    t.ctx.statusCode = status.code;
    rejectUpgrade(client, status);
    return true;
  }
  const { connection, protocol } = spdy;
  const kubeletSide = await spdyRemoteCommandClient(connection, protocol, options).catch((err: Error) => err);
  if (kubeletSide instanceof Error) {
    connection.destroy();
    t.ctx.statusCode = 502;
    rejectUpgrade(
      client,
      new StatusError(502, 'InternalError', `error creating streams to the kubelet: ${kubeletSide.message}`)
    );
    return true;
  }
  const session = await acceptRemoteCommand(t.req as IncomingMessage, client, t.ctx.upgrade!.head, options);
  if (!session) {
    connection.destroy();
    return true;
  }
  t.ctx.statusCode = 101;
  t.log.debug({ protocol: session.protocol, kubeletProtocol: protocol }, 'exec/attach translated to SPDY');
  await bridgeRemoteCommand(session, kubeletSide);
  return true;
}

/** port-forward: kubectl's SPDY inside its WebSocket tunnel, unwrapped onto a SPDY upgrade to the kubelet. */
export async function tunnelPortForward(t: Translation): Promise<boolean> {
  const client = t.ctx.upgrade!.socket;
  let kubelet: Awaited<ReturnType<typeof dialSpdyUpgrade>>;
  try {
    kubelet = await dialKubelet(t, (url, socket) =>
      dialSpdyUpgrade(url, [PORT_FORWARD_PROTOCOL], { createConnection: () => socket })
    );
  } catch (err) {
    const status = refusal(err);
    t.ctx.statusCode = status.code;
    rejectUpgrade(client, status);
    return true;
  }
  const { socket, head } = kubelet;
  // Upstream echoes `SPDY/3.1+<the kubelet's protocol>`; kubectl accepts only the one it offered.
  const accepted = await acceptWebSocket(t.req as IncomingMessage, client, t.ctx.upgrade!.head, [
    PORT_FORWARD_TUNNEL_PROTOCOL,
  ]);
  if (!accepted) {
    socket.destroy();
    return true;
  }
  t.ctx.statusCode = 101;
  const tunnel = webSocketDuplex(accepted.ws);
  if (head.length) tunnel.write(head);
  relay(socket, tunnel);
  relay(tunnel, socket);
  await new Promise<void>((resolve) => {
    const end = (): void => {
      tunnel.destroy();
      socket.destroy();
      resolve();
    };
    tunnel.once('close', end);
    socket.once('close', end);
    socket.on('error', end);
    tunnel.on('error', end);
  });
  return true;
}
