// kube-proxy's userspace mode: a TCP listener on each ClusterIP:port that has ready endpoints, relaying every
// connection to one of them, round-robin, trying the next when one refuses. For one machine with no firewall
// rights: with a service range inside 127.0.0.0/8 the ClusterIPs need no setup (Linux routes all of 127/8 to
// loopback). A port without ready endpoints has no listener, so a client is refused at once, as upstream's
// reject rule does.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { relay } from '../lib/relay.js';
import { ServiceState, watchServices, type EndpointSlice, type Service } from './service-ports.js';

type Event = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Listener {
  server: Server;
  /** The ready endpoints, refreshed on every sync. */
  endpoints: { host: string; port: number }[];
  next: number;
}

export class UserspaceProxier {
  readonly #state = new ServiceState();
  /** By `ip:port/TCP`. */
  readonly #listeners = new Map<string, Listener>();

  constructor(private readonly log: Logger) {}

  /** Watches Services and EndpointSlices until `signal` aborts, then closes every listener. */
  async run(client: KubeClient, signal: AbortSignal): Promise<void> {
    await watchServices(client, this.log, signal, this.#state, () => this.#sync());
    this.close();
  }

  onService(type: Event, s: Service): void {
    this.#state.onService(type, s);
    this.#sync();
  }

  onEndpointSlice(type: Event, s: EndpointSlice): void {
    this.#state.onEndpointSlice(type, s);
    this.#sync();
  }

  close(): void {
    for (const l of this.#listeners.values()) l.server.close();
    this.#listeners.clear();
  }

  #sync(): void {
    const wanted = new Map<string, { host: string; port: number }[]>();
    for (const sp of this.#state.ports())
      if (sp.protocol === 'TCP' && sp.endpoints.length)
        wanted.set(
          `${sp.clusterIP}:${sp.port}/TCP`,
          sp.endpoints.map((e) => ({ host: e.ip, port: e.port }))
        );
    for (const [k, l] of this.#listeners)
      if (!wanted.has(k)) {
        l.server.close();
        this.#listeners.delete(k);
        this.log.info({ listener: k }, 'no ready endpoints: stopped listening');
      }
    for (const [k, endpoints] of wanted) {
      const existing = this.#listeners.get(k);
      if (existing) {
        existing.endpoints = endpoints;
        continue;
      }
      const [ip, port] = k.replace('/TCP', '').split(/:(?=\d+$)/) as [string, string];
      const l: Listener = { server: createServer((c) => this.#relay(l, c)), endpoints, next: 0 };
      l.server.on('error', (err) => {
        this.log.warn({ listener: k, err: err.message }, 'cannot listen on the service address');
        if (this.#listeners.get(k) === l) this.#listeners.delete(k);
      });
      l.server.listen(Number(port), ip, () => this.log.info({ listener: k }, 'listening for a service'));
      this.#listeners.set(k, l);
    }
  }

  /** Relays one client connection to the first endpoint (round-robin from the last) that accepts it. */
  #relay(l: Listener, client: Socket): void {
    client.pause();
    client.on('error', () => client.destroy());
    const candidates = l.endpoints.length;
    const attempt = (tried: number): void => {
      if (tried >= candidates || client.destroyed) {
        client.resetAndDestroy();
        return;
      }
      const ep = l.endpoints[l.next++ % l.endpoints.length]!;
      const upstream = connect(ep);
      let connected = false;
      upstream.on('error', () => {
        // Refused (or unreachable) before connecting: the next endpoint; after: the client's connection ends.
        if (!connected) attempt(tried + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        connected = true;
        relay(client, upstream);
        relay(upstream, client);
        client.resume();
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
    };
    attempt(0);
  }
}
