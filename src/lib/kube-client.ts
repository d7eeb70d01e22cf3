// A thin typed client for components (controllers, later the kubelet): HTTPS with the component's own client
// certificate, JSON in and out, Status errors turned back into StatusError, watches as async iterators.
// Smaller and faster to start than @kubernetes/client-node, which only the tests use as an independent client.
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isNotFound, StatusError, type StatusReason } from '../api/errors.js';

export interface ClientConfig {
  /** `https://127.0.0.1:6443` */
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  /** A bearer token, or where it expires (a bound service-account token) the function that gives the current one. */
  token?: string | (() => Promise<string>);
  userAgent?: string;
}

export interface WatchEvent<T = any> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class KubeClient {
  #agent: Agent;
  readonly #base: URL;
  readonly #retired = new Set<Agent>();

  constructor(private readonly config: ClientConfig) {
    this.#base = new URL(config.server);
    this.#agent = newAgent(config);
  }

  /**
   * Switches to a new client certificate (the kubelet's rotation) without failing a request: new requests
   * connect with the new pair through a fresh agent (its own TLS session cache, so no session resumed under the
   * old certificate); the old agent's idle connections close now, and its busy ones when their request ends.
   */
  setClientCertificate(certPem: string, keyPem: string): void {
    const old = this.#agent;
    this.#agent = newAgent({ ...this.config, certPem, keyPem });
    old.on('free', (socket: { destroy(): void }) => socket.destroy()); // freed after its request: closed, not pooled
    for (const sockets of Object.values(old.freeSockets)) for (const s of sockets ?? []) s.destroy();
    this.#retired.add(old);
  }

  async #open(
    method: string,
    path: string,
    body: unknown,
    contentType: string,
    signal?: AbortSignal
  ): Promise<IncomingMessage> {
    const payload =
      body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.config.userAgent ?? 'hubspoke',
    };
    if (payload) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(payload.length);
    }
    const { token } = this.config;
    if (token) headers.authorization = `Bearer ${typeof token === 'string' ? token : await token()}`;
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.#base), { method, headers, agent: this.#agent, signal }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** One request; a non-2xx answer throws the server's Status as a StatusError. */
  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    signal?: AbortSignal
  ): Promise<T> {
    const res = await this.#open(method, path, body, contentType, signal);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) throw toStatusError(code, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** GET, with `undefined` for 404 NotFound (the object is gone: usually nothing left to do). */
  async getOptional<T = any>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Streams watch events until the server ends the watch or `signal` aborts. */
  async *watch<T = any>(path: string, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const sep = path.includes('?') ? '&' : '?';
    const res = await this.#open('GET', `${path}${sep}watch=1`, undefined, '', signal);
    const code = res.statusCode ?? 0;
    if (code !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toStatusError(code, Buffer.concat(chunks).toString('utf8'));
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }

  close(): void {
    this.#agent.destroy();
    for (const a of this.#retired) a.destroy();
  }
}

function newAgent(config: ClientConfig): Agent {
  return new Agent({ keepAlive: true, ca: config.caPem, cert: config.certPem, key: config.keyPem, maxSockets: 16 });
}

function toStatusError(code: number, text: string): StatusError {
  try {
    const s = JSON.parse(text) as { reason?: StatusReason; message?: string; details?: object };
    if (s && typeof s === 'object' && s.message)
      return new StatusError(code, s.reason ?? 'InternalError', s.message, s.details);
  } catch {
    // not a Status: fall through
  }
  return new StatusError(
    code,
    code === 404 ? 'NotFound' : 'InternalError',
    `the server answered ${code}: ${text.slice(0, 200)}`
  );
}
