// One SSH connection to one node's sshd (upstream's old pkg/ssh SSHTunnel, with pinned host keys). It connects
// when created, is health-checked by SSH keepalives, and reconnects with exponential back-off whenever it drops
// or fails; a dial while it is down tries again at once (at most once a second), so a restarted sshd serves the
// next request without waiting out the back-off. Every dial is a `direct-tcpip` channel opened by the node's sshd.
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { newServiceUnavailable, newTimeout, type StatusError } from '../../../api/errors.js';
import type { Logger } from '../../../lib/log.js';
import { sshFingerprint } from '../../../pki/index.js';
import { joinHostPort, type DialOptions } from '../dialer.js';

export interface TunnelTarget {
  /** The node's name, for messages. */
  node: string;
  host: string;
  port: number;
  /** The host key fingerprints accepted (`SHA256:…`); empty: refuse, there is no trust on first use. */
  pins: ReadonlySet<string>;
  /** Where the pins came from, for messages (`annotation hubspoke.io/ssh-host-key`, `--ssh-known-hosts`). */
  pinSource: string;
}

export interface TunnelSettings {
  user: string;
  privateKey: Buffer;
  /** Time for TCP connect, key exchange and authentication. */
  connectTimeoutMs: number;
  /** SSH keepalive period; the connection is dropped after `keepaliveCountMax` unanswered ones. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  log: Logger;
}

/** Below this since the last failed attempt, a dial reports that failure instead of trying again. */
const retryOnDialAfterMs = 1000;

export class SSHTunnel {
  #target: TunnelTarget;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #lastError: StatusError | undefined;
  #lastAttempt = 0;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    target: TunnelTarget,
    private readonly s: TunnelSettings
  ) {
    this.#target = target;
    this.#backoffMs = s.backoffInitialMs;
    void this.#connect().catch(() => undefined);
  }

  get target(): TunnelTarget {
    return this.#target;
  }

  get up(): boolean {
    return this.#client !== undefined;
  }

  /** A changed address, port or pin replaces the connection at once; anything else keeps it. */
  update(target: TunnelTarget): void {
    const t = this.#target;
    this.#target = target;
    if (t.host === target.host && t.port === target.port && sameSet(t.pins, target.pins)) return;
    this.s.log.info(
      { node: target.node, address: joinHostPort(target.host, target.port) },
      'SSH tunnel target changed; reconnecting'
    );
    this.#drop();
    this.#backoffMs = this.s.backoffInitialMs;
    void this.#connect().catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    this.#drop();
  }

  /** A `direct-tcpip` channel from the node's sshd to `host:port`. */
  async dial(host: string, port: number, options: DialOptions): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const client = await this.#ready(options.signal, timeoutMs);
    return this.#openChannel(client, host, port, options.signal, Math.max(1, deadline - Date.now()));
  }

  async #ready(signal: AbortSignal | undefined, timeoutMs: number): Promise<Client> {
    if (this.#client) return this.#client;
    if (this.#closed) throw newServiceUnavailable(`ssh: the tunnel to node "${this.#target.node}" is closed`);
    let connecting = this.#connecting;
    if (!connecting) {
      if (this.#lastError && Date.now() - this.#lastAttempt < retryOnDialAfterMs) throw this.#lastError;
      connecting = this.#connect();
    }
    return withDeadline(connecting, signal, timeoutMs, () =>
      newTimeout(`ssh: timed out connecting to node "${this.#target.node}" at ${this.#address()}`)
    );
  }

  #address(): string {
    return joinHostPort(this.#target.host, this.#target.port);
  }

  #openChannel(client: Client, host: string, port: number, signal: AbortSignal | undefined, timeoutMs: number) {
    const address = joinHostPort(host, port);
    const opened = new Promise<ClientChannel>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        if (err)
          reject(
            newServiceUnavailable(
              `ssh: node "${this.#target.node}" could not open a channel to ${address}: ${err.message}`
            )
          );
        else resolve(channel);
      });
    });
    const result = withDeadline(opened, signal, timeoutMs, () =>
      newTimeout(`ssh: timed out opening a channel to ${address} through node "${this.#target.node}"`)
    );
    // A channel that opens after the caller gave up is closed, not leaked.
    result.catch(() => void opened.then((c) => c.destroy()).catch(() => undefined));
    return result;
  }

  #connect(): Promise<Client> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastAttempt = Date.now();
    const target = this.#target;
    const client = new Client();
    const connecting = new Promise<Client>((resolve, reject) => {
      if (target.pins.size === 0) {
        return reject(
          newServiceUnavailable(
            `ssh: node "${target.node}" has no pinned SSH host key (${target.pinSource}): refusing to connect (no trust on first use)`
          )
        );
      }
      let presented: string | undefined;
      client.once('ready', () => resolve(client));
      // 'on', not 'once': ssh2 may emit more than one error (a refused host key, then the lost connection).
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (presented !== undefined && !target.pins.has(presented))
          reject(
            newServiceUnavailable(
              `ssh: host key mismatch for node "${target.node}" at ${this.#address()}: pinned ${[...target.pins].join(', ')} (${target.pinSource}), presented ${presented}`
            )
          );
        else if (err.level === 'client-authentication')
          reject(
            newServiceUnavailable(
              `ssh: node "${target.node}" at ${this.#address()} refused the key of user "${this.s.user}": ${err.message}`
            )
          );
        else if (err.level === 'client-timeout')
          reject(newTimeout(`ssh: node "${target.node}" at ${this.#address()}: ${err.message}`));
        else reject(newServiceUnavailable(`ssh: node "${target.node}" at ${this.#address()}: ${err.message}`));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: this.s.user,
        privateKey: this.s.privateKey,
        readyTimeout: this.s.connectTimeoutMs,
        keepaliveInterval: this.s.keepaliveIntervalMs,
        keepaliveCountMax: this.s.keepaliveCountMax,
        hostVerifier: (key: Buffer) => {
          presented = sshFingerprint(key);
          return target.pins.has(presented);
        },
      });
    });
    this.#connecting = connecting;
    connecting.then(
      () => {
        this.#connecting = undefined;
        if (this.#closed || this.#target !== target) return void client.end();
        this.#client = client;
        this.#lastError = undefined;
        this.#backoffMs = this.s.backoffInitialMs;
        this.s.log.info({ node: target.node, address: this.#address() }, 'SSH tunnel up');
        client.on('error', (err) => this.s.log.warn({ node: target.node, err: err.message }, 'SSH tunnel error'));
        client.once('close', () => {
          if (this.#client !== client) return;
          this.#client = undefined;
          this.s.log.warn({ node: target.node, address: this.#address() }, 'SSH tunnel down; reconnecting');
          this.#schedule();
        });
      },
      (err: StatusError) => {
        if (this.#connecting === connecting) this.#connecting = undefined;
        client.end();
        this.#lastError = err;
        this.s.log.warn({ node: target.node, err: err.message, retryInMs: this.#backoffMs }, 'SSH tunnel failed');
        if (this.#target === target) this.#schedule();
      }
    );
    return connecting;
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#connecting) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.s.backoffMaxMs);
    this.#timer = setTimeout(() => void this.#connect().catch(() => undefined), delay * (0.8 + Math.random() * 0.4));
    this.#timer.unref();
  }

  #drop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#connecting = undefined;
    client?.end();
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function withDeadline<T>(p: Promise<T>, signal: AbortSignal | undefined, ms: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(newServiceUnavailable('ssh: operation was canceled'));
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(newServiceUnavailable('ssh: operation was canceled'));
    };
    const timer = setTimeout(() => {
      done();
      reject(timeout());
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: Error) => {
        done();
        reject(err);
      }
    );
  });
}
