// kube-proxy's userspace mode: a TCP listener on each ClusterIP:port that has ready endpoints, relaying every
// connection to one of them, round-robin, trying the next when one refuses. For one machine with no firewall
// rights: with a service range inside 127.0.0.0/8 the ClusterIPs need no setup (Linux routes all of 127/8 to
// loopback). A port without ready endpoints has no listener, so a client is refused at once, as upstream's
// reject rule does.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { runInformer } from '../lib/informer.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';

interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
}

export interface Service {
  metadata?: { namespace?: string; name?: string };
  spec?: { clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[] };
}

export interface EndpointSlice {
  metadata?: { namespace?: string; name?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

type Event = 'ADDED' | 'MODIFIED' | 'DELETED';
const key = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const serviceNameLabel = 'kubernetes.io/service-name';

interface Listener {
  server: Server;
  /** The ready endpoints, `ip:port`, refreshed on every sync. */
  endpoints: { host: string; port: number }[];
  next: number;
}

export class UserspaceProxier {
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice>();
  /** By `ip:port/TCP`. */
  readonly #listeners = new Map<string, Listener>();

  constructor(private readonly log: Logger) {}

  /** Watches Services and EndpointSlices until `signal` aborts, then closes every listener. */
  async run(client: KubeClient, signal: AbortSignal): Promise<void> {
    await Promise.all([
      runInformer<Service>(client, '/api/v1/services', this.log, signal, (t, s) => this.onService(t, s)),
      runInformer<EndpointSlice>(client, '/apis/discovery.k8s.io/v1/endpointslices', this.log, signal, (t, s) =>
        this.onEndpointSlice(t, s)
      ),
    ]);
    this.close();
  }

  onService(type: Event, s: Service): void {
    if (type === 'DELETED') this.#services.delete(key(s));
    else this.#services.set(key(s), s);
    this.#sync();
  }

  onEndpointSlice(type: Event, s: EndpointSlice): void {
    if (type === 'DELETED') this.#slices.delete(key(s));
    else this.#slices.set(key(s), s);
    this.#sync();
  }

  close(): void {
    for (const l of this.#listeners.values()) l.server.close();
    this.#listeners.clear();
  }

  /** The ready endpoints of one port of a Service, from its slices (matched by port name, as upstream). */
  #endpoints(svc: Service, port: ServicePort): { host: string; port: number }[] {
    const out: { host: string; port: number }[] = [];
    for (const slice of this.#slices.values()) {
      if (slice.metadata?.namespace !== svc.metadata?.namespace) continue;
      if (slice.metadata?.labels?.[serviceNameLabel] !== svc.metadata?.name) continue;
      if (slice.addressType && slice.addressType !== 'IPv4') continue;
      const p = slice.ports?.find((sp) => (sp.name ?? '') === (port.name ?? '') && (sp.protocol ?? 'TCP') === 'TCP');
      if (!p?.port) continue;
      for (const ep of slice.endpoints ?? [])
        if (ep.conditions?.ready !== false) for (const a of ep.addresses) out.push({ host: a, port: p.port });
    }
    return out;
  }

  #sync(): void {
    const wanted = new Map<string, { host: string; port: number }[]>();
    for (const svc of this.#services.values()) {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None') continue;
      for (const port of svc.spec?.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        const eps = this.#endpoints(svc, port);
        if (eps.length) wanted.set(`${ip}:${port.port}/TCP`, eps);
      }
    }
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
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
    };
    attempt(0);
  }
}
