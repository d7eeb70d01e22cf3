// Opening the connection to a backend (kubelet, pod, service endpoint) through the egress dialer, with TLS as the
// hop requires. Verification is on by default: the kubelet's serving certificate must chain to
// --kubelet-certificate-authority (default: the cluster CA) and name the address dialled; `https:` pod and
// service proxying verifies against --proxy-ca-file (default: the cluster CA) the same way. A failure is a Status
// naming the hop and the reason, and nothing is relayed.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { StatusError } from '../../api/errors.js';
import type { Logger } from '../../lib/log.js';
import { joinHostPort, type EgressDialer } from '../egress/dialer.js';

export interface TLSClientConfig {
  /** PEM bundle the peer must chain to. */
  ca: string;
  /** The client identity presented (kubelet hop only). */
  cert?: string;
  key?: string;
  /** Skip verification (--kubelet-insecure-skip-tls-verify, insecureSkipTLSVerifyBackend): logged on every use. */
  insecureSkipVerify?: boolean;
}

export interface BackendDial {
  dialer: EgressDialer;
  /** What the hop is called in errors and logs, e.g. `kubelet of node "n1"`. */
  hop: string;
  host: string;
  port: number;
  /** TLS, or plain TCP when absent. */
  tls?: TLSClientConfig;
  timeoutMs: number;
  signal?: AbortSignal;
  log: Logger;
}

// Parsing the CA bundle and the client key pair into a SecureContext costs more than the rest of a dial (a CPU
// profile of 2,000 exec/port-forward sessions had it on top), so contexts are kept per (ca, cert, key); a few,
// for rotated certificates and the proxy CA beside the kubelet CA.
const contexts = new Map<string, SecureContext>();
function secureContext(tls: TLSClientConfig): SecureContext {
  const key = `${tls.ca}\0${tls.cert ?? ''}\0${tls.key ?? ''}`;
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    if (contexts.size >= 8) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, ctx);
  }
  return ctx;
}

// Go's wording for the common verification failures, so the message reads as upstream's.
function x509Reason(err: NodeJS.ErrnoException, host: string): string {
  switch (err.code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `x509: certificate signed by unknown authority (${err.message})`;
    case 'CERT_HAS_EXPIRED':
      return `x509: certificate has expired or is not yet valid (${err.message})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `x509: certificate is not valid for ${host} (${err.message})`;
    default:
      return err.message;
  }
}

/** Connects to the backend; TLS is verified (unless skipped) before this resolves. */
export async function dialBackend(d: BackendDial): Promise<Duplex> {
  const address = joinHostPort(d.host, d.port);
  let raw: Duplex;
  try {
    raw = await d.dialer.dial('tcp', address, { signal: d.signal, timeoutMs: d.timeoutMs });
  } catch (err) {
    const s = err instanceof StatusError ? err : undefined;
    throw new StatusError(
      s?.code ?? 503,
      s?.reason ?? 'ServiceUnavailable',
      `error dialing backend: ${d.hop} at ${address}: ${(err as Error).message}`
    );
  }
  if (!d.tls) return raw;
  if (d.tls.insecureSkipVerify)
    d.log.warn(
      { hop: d.hop, address },
      'TLS verification of the backend is skipped: the connection can be intercepted'
    );
  const tls = d.tls;
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = tlsConnect({
      socket: raw,
      secureContext: secureContext(tls),
      // SNI only carries DNS names; Node checks the certificate against `host` (IP SANs for an IP).
      servername: isIP(d.host) ? undefined : d.host,
      host: d.host,
      rejectUnauthorized: !tls.insecureSkipVerify,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StatusError(504, 'Timeout', `error dialing backend: ${d.hop} at ${address}: tls: handshake timeout`));
    }, d.timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      const verify = err.code !== undefined && (err.code.includes('CERT') || err.code.includes('VERIFY'));
      const reason = verify ? `tls: failed to verify certificate: ${x509Reason(err, d.host)}` : `tls: ${err.message}`;
      reject(new StatusError(502, 'InternalError', `error dialing backend: ${d.hop} at ${address}: ${reason}`));
    };
    socket.once('error', onError);
  });
}
