// The API server's one way out (upstream's egress selector, staging/src/k8s.io/apiserver/pkg/server/egressselector):
// every connection the API server opens toward nodes, pods and services is dialled here, chosen by the egress
// selection of the traffic: `direct` here, Konnectivity's GRPC and HTTPConnect (konnectivity.ts, http-connect.ts)
// and SSH implement the same EgressDialer and are plugged in per selection by --egress-selector-config-file
// (config.ts, protocols.ts), so no caller changes.
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { newServiceUnavailable, newTimeout } from '../../api/errors.js';

/** Upstream's EgressType: `cluster` (nodes, pods, services), `controlplane` (webhooks…), `etcd`. */
export type EgressSelection = 'cluster' | 'controlplane' | 'etcd';

export interface DialOptions {
  /** Aborts the dial (the client went away). */
  signal?: AbortSignal;
  /** Gives up after this long with a 504 Status. @default 30000 (upstream's dial timeout) */
  timeoutMs?: number;
}

/** Go's DialContext: a connected byte stream to `address` (`host:port`, IPv6 in brackets). */
export interface EgressDialer {
  /** For logs and error messages: `direct`, later `konnectivity`, `ssh`. */
  readonly name: string;
  /** @throws StatusError 503 refused / unreachable, 504 past the timeout */
  dial(network: 'tcp', address: string, options?: DialOptions): Promise<Duplex>;
  /** Releases what the dialer keeps between dials (a shared connection to its proxy). */
  close?(): void;
}

/** Splits `host:port` / `[v6]:port`. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`address ${address}: missing port in address`);
  return { host: m[1]!, port: Number(m[2]) };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Dials from this process's own network namespace. */
export class DirectDialer implements EgressDialer {
  readonly name = 'direct';

  dial(_network: 'tcp', address: string, options: DialOptions = {}): Promise<Duplex> {
    const { host, port } = splitHostPort(address);
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const socket: Socket = connect({ host, port });
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(newTimeout(`dial tcp ${address}: i/o timeout`)), timeoutMs);
      const onAbort = (): void => fail(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const onError = (err: Error): void => fail(newServiceUnavailable(`dial tcp ${address}: ${err.message}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        cleanup();
        socket.setNoDelay(true);
        resolve(socket);
      });
    });
  }
}

/** Which dialer each egress selection uses (upstream's EgressSelector.Lookup). */
export class EgressSelector {
  readonly #dialers: Record<EgressSelection, EgressDialer>;

  constructor(dialers: Partial<Record<EgressSelection, EgressDialer>> = {}) {
    const direct = new DirectDialer();
    this.#dialers = { cluster: direct, controlplane: direct, etcd: direct, ...dialers };
  }

  lookup(selection: EgressSelection): EgressDialer {
    return this.#dialers[selection];
  }

  close(): void {
    for (const d of new Set(Object.values(this.#dialers))) d.close?.();
  }
}
