// What every proxy mode needs from the API: the Services and EndpointSlices kube-proxy watches, reduced to one
// entry per Service port with its ready endpoints (upstream's ServicePortMap/EndpointsMap, IPv4 only). Values
// that would not make a valid rule (an address that is not IPv4, a port out of range) are left out here, so a
// bad object in the API never reaches the node's rules.
import { isIPv4 } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { runInformer } from '../lib/informer.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';

export type { Service, EndpointSlice };

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ServicePort {
  namespace: string;
  name: string;
  /** The Service port's name ('' when the Service has one unnamed port). */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** Set for NodePort and LoadBalancer Services. */
  nodePort?: number;
  /** sessionAffinity ClientIP: how long a client sticks to its endpoint. */
  affinitySeconds?: number;
  /** Ready endpoints, sorted, without duplicates. */
  endpoints: Endpoint[];
}

type Event = 'ADDED' | 'MODIFIED' | 'DELETED';
const key = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const serviceNameLabel = 'kubernetes.io/service-name';
const protocols: readonly string[] = ['TCP', 'UDP', 'SCTP'];
const validPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

/** The Services and EndpointSlices seen so far; `ports()` is the state a proxier programs. */
export class ServiceState {
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice>();

  onService(type: Event, s: Service): void {
    if (type === 'DELETED') this.#services.delete(key(s));
    else this.#services.set(key(s), s);
  }

  onEndpointSlice(type: Event, s: EndpointSlice): void {
    if (type === 'DELETED') this.#slices.delete(key(s));
    else this.#slices.set(key(s), s);
  }

  /** Every proxied Service port, sorted by namespace, name and port name. */
  ports(): ServicePort[] {
    const out: ServicePort[] = [];
    for (const svc of this.#services.values()) {
      const spec = svc.spec;
      const clusterIP = spec?.clusterIP;
      if (!spec || spec.type === 'ExternalName' || !clusterIP || !isIPv4(clusterIP)) continue;
      const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
      for (const p of spec.ports ?? []) {
        const protocol = p.protocol ?? 'TCP';
        if (!protocols.includes(protocol) || !validPort(p.port)) continue;
        const sp: ServicePort = {
          namespace: svc.metadata?.namespace ?? '',
          name: svc.metadata?.name ?? '',
          portName: p.name ?? '',
          protocol: protocol as Protocol,
          clusterIP,
          port: p.port,
          endpoints: this.#endpoints(svc, p.name ?? '', protocol),
        };
        if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && validPort(p.nodePort))
          sp.nodePort = p.nodePort;
        if (spec.sessionAffinity === 'ClientIP' && Number.isInteger(timeout) && timeout > 0)
          sp.affinitySeconds = timeout;
        out.push(sp);
      }
    }
    const order = (p: ServicePort): string => `${p.namespace}/${p.name}/${p.portName}/${p.protocol}`;
    return out.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  }

  /** The ready endpoints of one port of a Service, from its slices, matched by port name as upstream. */
  #endpoints(svc: Service, portName: string, protocol: string): Endpoint[] {
    const seen = new Map<string, Endpoint>();
    for (const slice of this.#slices.values()) {
      if (slice.metadata?.namespace !== svc.metadata?.namespace) continue;
      if (slice.metadata?.labels?.[serviceNameLabel] !== svc.metadata?.name) continue;
      if (slice.addressType !== 'IPv4') continue;
      const p = slice.ports?.find((sp) => (sp.name ?? '') === portName && (sp.protocol ?? 'TCP') === protocol);
      if (!p || !validPort(p.port)) continue;
      // An unset ready condition means ready (the EndpointSlice API's rule).
      for (const ep of slice.endpoints ?? [])
        if (ep.conditions?.ready !== false)
          for (const ip of ep.addresses) if (isIPv4(ip)) seen.set(`${ip}:${p.port}`, { ip, port: p.port });
    }
    return [...seen.values()].sort((a, b) => cmpEndpoint(a, b));
  }
}

const ipNum = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const cmpEndpoint = (a: Endpoint, b: Endpoint): number => ipNum(a.ip) - ipNum(b.ip) || a.port - b.port;

/**
 * Lists and watches Services and EndpointSlices into `state` until `signal` aborts, calling `onChange` after
 * every event once both lists have arrived (before that, a proxier would program a half-known cluster).
 */
export async function watchServices(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  state: ServiceState,
  onChange: () => void
): Promise<void> {
  let synced = 0;
  const changed = (): void => {
    if (synced >= 2) onChange();
  };
  const once = (): (() => void) => {
    let done = false;
    return () => {
      if (!done) synced++;
      done = true;
      changed();
    };
  };
  await Promise.all([
    runInformer<Service>(
      client,
      '/api/v1/services',
      log,
      signal,
      (t, s) => {
        state.onService(t, s);
        changed();
      },
      { onSynced: once() }
    ),
    runInformer<EndpointSlice>(
      client,
      '/apis/discovery.k8s.io/v1/endpointslices',
      log,
      signal,
      (t, s) => {
        state.onEndpointSlice(t, s);
        changed();
      },
      { onSynced: once() }
    ),
  ]);
}
