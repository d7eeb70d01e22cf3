// x509 client certificates: the TLS handshake already verified the chain against --client-ca-file (Node sets
// `authorized`); the user is the subject's CN, the groups its O values (upstream's CommonNameUserConversion).
import type { TLSSocket } from 'node:tls';
import type { Request } from '../context.js';
import type { Authenticator } from './interface.js';
import { newUnauthorized } from '../../api/errors.js';

function tlsSocketOf(req: Request): TLSSocket | undefined {
  const s = ('stream' in req && req.stream ? req.stream.session?.socket : req.socket) as TLSSocket | undefined;
  return typeof s?.getPeerCertificate === 'function' ? s : undefined;
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function x509Authenticator(): Authenticator {
  return {
    async authenticate(req) {
      const sock = tlsSocketOf(req);
      if (!sock) return null;
      const cert = sock.getPeerCertificate();
      if (!cert || Object.keys(cert).length === 0) return null;
      if (!sock.authorized)
        throw newUnauthorized(`x509: certificate rejected: ${String(sock.authorizationError ?? 'unknown authority')}`);
      const cn = asList(cert.subject?.CN)[0];
      if (!cn) throw newUnauthorized('x509: client certificate has no common name');
      return { name: cn, groups: asList(cert.subject?.O) };
    },
  };
}
