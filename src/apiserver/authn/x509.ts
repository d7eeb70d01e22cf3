// x509 client certificates: the TLS handshake already verified the chain against --client-ca-file (Node sets
// `authorized`); the user is the subject's CN, the groups its O values (upstream's CommonNameUserConversion).
import type { TLSSocket } from 'node:tls';
import type { Request } from '../context.js';
import type { Authenticator } from './interface.js';
import type { UserInfo } from '../authz/interface.js';
import { newUnauthorized } from '../../api/errors.js';

function tlsSocketOf(req: Request): TLSSocket | undefined {
  const s = ('stream' in req && req.stream ? req.stream.session?.socket : req.socket) as TLSSocket | undefined;
  return typeof s?.getPeerCertificate === 'function' ? s : undefined;
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** What the certificate of one TLS connection says, and the handshake it was read after. */
interface CachedPeer {
  finished: Buffer | undefined;
  outcome: UserInfo | Error | null;
}

export function x509Authenticator(): Authenticator {
  // Reading the peer certificate builds a large object each time: a connection's answer is kept while its last
  // handshake (the Finished message, new on any renegotiation) is the one it was read after.
  const peers = new WeakMap<TLSSocket, CachedPeer>();
  return {
    async authenticate(req) {
      const sock = tlsSocketOf(req);
      if (!sock) return null;
      const finished = sock.getFinished();
      let peer = peers.get(sock);
      if (!peer || !sameBytes(peer.finished, finished)) {
        peer = { finished, outcome: peerIdentity(sock) };
        peers.set(sock, peer);
      }
      if (peer.outcome instanceof Error) throw peer.outcome;
      // A copy: later filters may add groups to the user they are given.
      return peer.outcome && { name: peer.outcome.name, groups: [...peer.outcome.groups] };
    },
  };
}

function peerIdentity(sock: TLSSocket): UserInfo | Error | null {
  const cert = sock.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  if (!sock.authorized)
    return newUnauthorized(`x509: certificate rejected: ${String(sock.authorizationError ?? 'unknown authority')}`);
  const cn = asList(cert.subject?.CN)[0];
  if (!cn) return newUnauthorized('x509: client certificate has no common name');
  return { name: cn, groups: asList(cert.subject?.O) };
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
