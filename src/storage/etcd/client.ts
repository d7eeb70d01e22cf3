// The etcd3 client as the store needs it: TLS with a client certificate, large responses, quick reconnects, and
// fault handling tuned for a control plane. etcd3's defaults retry any error three times at once and open a member's
// circuit for 5 s after three failures of any kind, timeouts included; then a leader election (proposals in flight
// to the dead leader time out on healthy members) opens every circuit and the store fails for seconds although the
// cluster is fine. Here only connection failures count against a member, and a call retries, with backoff, errors
// that say "not now" (no connection, no leader, proposal dropped) until its own deadline.
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, GRPCUnavailableError } from 'etcd3';

export interface EtcdClientOptions {
  /** Client URLs of the members (--etcd-servers): https://host:port, or http:// for a cluster without TLS. */
  servers: string[];
  /** CA bundle that verifies the members' serving certificates (--etcd-cafile). */
  caFile?: string;
  /** Client certificate and key for etcd's client-certificate auth (--etcd-certfile, --etcd-keyfile). */
  certFile?: string;
  keyFile?: string;
}

/** How long a member whose connections fail is skipped before one call tries it again. */
const memberBackoffMs = 1_000;

/** Errors after which the same call may succeed on another member or a moment later, without having been applied. */
export function isRetryable(err: Error): boolean {
  return err instanceof GRPCUnavailableError || err.message.includes('raft proposal dropped');
}

export async function newEtcdClient(opts: EtcdClientOptions): Promise<Etcd3> {
  if (opts.servers.length === 0) throw new Error('no etcd servers given');
  const secure = opts.servers.some((s) => s.startsWith('https:'));
  const credentials = secure
    ? {
        // Without --etcd-cafile the members' certificates are verified against the system's CAs, as Go's would be.
        rootCertificate: opts.caFile ? await readFile(opts.caFile) : Buffer.from(rootCertificates.join('\n')),
        ...(opts.certFile && { certChain: await readFile(opts.certFile) }),
        ...(opts.keyFile && { privateKey: await readFile(opts.keyFile) }),
      }
    : undefined;
  return new Etcd3({
    hosts: opts.servers,
    ...(credentials && { credentials }),
    grpcOptions: {
      // A LIST of many objects is one large range response (upstream's client allows 2 GiB too).
      'grpc.max_receive_message_length': 2 ** 31 - 1,
      // Reconnect soon after a member comes back instead of grpc's default backoff of up to two minutes.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
      // Detect a member that stopped answering on an open connection (upstream's apiserver: 30 s / 10 s).
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    },
    faultHandling: {
      host: () =>
        circuitBreaker(
          handleWhen((err) => err instanceof GRPCUnavailableError),
          { halfOpenAfter: memberBackoffMs, breaker: new ConsecutiveBreaker(3) }
        ),
      // Attempts stop at the call's deadline (DEADLINE_EXCEEDED is not retried), or at once when every member's
      // circuit is open, which is how an unreachable cluster fails fast.
      global: retry(handleWhen(isRetryable), {
        maxAttempts: 50,
        backoff: new ExponentialBackoff({ initialDelay: 20, maxDelay: 250 }),
      }),
    },
  });
}
