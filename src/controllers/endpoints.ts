// The Endpoints controller (upstream pkg/controller/endpoint): for every Service with a selector, an Endpoints
// object of the same name listing its pods: ready pods in `addresses`, the others in `notReadyAddresses`
// (all ready when the Service publishes not-ready addresses), each service port resolved per pod, then packed
// into subsets of addresses that share the same ports (RepackSubsets). Services without a selector (such as
// `kubernetes`) have hand- or otherwise-managed Endpoints and are left alone.
import type {
  EndpointAddress,
  EndpointPort,
  Endpoints,
  EndpointSubset,
  Pod,
  Service,
} from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../api/errors.js';
import { jsonEqual } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import {
  endpointHostname,
  findPort,
  hasSelector,
  isHeadless,
  isPodReady,
  keyOf,
  podIPv4,
  podsOf,
  runServicePodSync,
  shouldPodBeInEndpoints,
} from './endpoint-util.js';

/** Marks the Endpoints this controller made (upstream 1.33), so a deleted Service's are known to be ours. */
export const endpointsManagedByLabel = 'endpoints.kubernetes.io/managed-by';
export const endpointsControllerName = 'endpoint-controller';
export const headlessLabel = 'service.kubernetes.io/headless';

// A port that stands for "no ports" (a headless Service without ports), as upstream's RepackSubsets does.
const noPort: EndpointPort = { port: -1 };

const addressKey = (a: EndpointAddress): string => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort): string =>
  JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);
const byIP = (a: EndpointAddress, b: EndpointAddress): number =>
  a.ip.localeCompare(b.ip, 'en', { numeric: true }) || addressKey(a).localeCompare(addressKey(b));
const byPort = (a: EndpointPort, b: EndpointPort): number =>
  (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? '');

function podAddress(svc: Service, pod: Pod): EndpointAddress {
  const a: EndpointAddress = {
    ip: podIPv4(pod)!,
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  const hostname = endpointHostname(svc, pod);
  if (hostname) a.hostname = hostname;
  return a;
}

/** The subsets of a Service's Endpoints, from its pods, in upstream's canonical packing. */
export function computeEndpointSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  // port → address → ready
  const byPortKey = new Map<
    string,
    { port: EndpointPort; addrs: Map<string, { addr: EndpointAddress; ready: boolean }> }
  >();
  const add = (port: EndpointPort, addr: EndpointAddress, ready: boolean): void => {
    const k = portKey(port);
    let entry = byPortKey.get(k);
    if (!entry) byPortKey.set(k, (entry = { port, addrs: new Map() }));
    entry.addrs.set(addressKey(addr), { addr, ready });
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const addr = podAddress(svc, pod);
    const ready = tolerateUnready || isPodReady(pod);
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) {
      if (isHeadless(svc)) add(noPort, addr, ready);
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      add(ep, addr, ready);
    }
  }
  // Ports that reach exactly the same addresses (with the same readiness) share a subset.
  const groups = new Map<string, { ports: EndpointPort[]; addrs: { addr: EndpointAddress; ready: boolean }[] }>();
  for (const { port, addrs } of byPortKey.values()) {
    const list = [...addrs.values()];
    const k = list
      .map((a) => `${addressKey(a.addr)}\u0000${a.ready}`)
      .sort()
      .join('\u0001');
    const g = groups.get(k);
    if (g) g.ports.push(port);
    else groups.set(k, { ports: [port], addrs: list });
  }
  const subsets: EndpointSubset[] = [];
  for (const { ports, addrs } of groups.values()) {
    const ss: EndpointSubset = {};
    const ready = addrs.filter((a) => a.ready).map((a) => a.addr);
    const notReady = addrs.filter((a) => !a.ready).map((a) => a.addr);
    if (ready.length) ss.addresses = ready.sort(byIP);
    if (notReady.length) ss.notReadyAddresses = notReady.sort(byIP);
    const real = ports.filter((p) => p !== noPort);
    if (real.length) ss.ports = real.sort(byPort);
    subsets.push(ss);
  }
  const first = (ss: EndpointSubset): string => (ss.addresses ?? ss.notReadyAddresses ?? [])[0]?.ip ?? '';
  return subsets.sort(
    (a, b) =>
      first(a).localeCompare(first(b), 'en', { numeric: true }) ||
      byPort(a.ports?.[0] ?? noPort, b.ports?.[0] ?? noPort)
  );
}

/** The labels of a Service's Endpoints: the Service's own, plus upstream's markers. */
export function endpointsLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {
    ...svc.metadata?.labels,
    [endpointsManagedByLabel]: endpointsControllerName,
  };
  if (isHeadless(svc)) labels[headlessLabel] = '';
  return labels;
}

export function runEndpointsController(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const owned = { path: '/api/v1/endpoints', serviceKey: (ep: Endpoints) => keyOf(ep) };
  return runServicePodSync(client, log, signal, owned, async (key, cache) => {
    const [namespace = '', name = ''] = key.split('/');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/endpoints`;
    const svc = cache.services.get(key);
    let current: Endpoints | undefined;
    try {
      current = await client.get<Endpoints>(`${path}/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!svc || !hasSelector(svc)) {
      // Only Endpoints this controller made go with their Service (a selector-less Service's are someone else's).
      if (current && !svc && current.metadata?.labels?.[endpointsManagedByLabel] === endpointsControllerName) {
        await client.request('DELETE', `${path}/${encodeURIComponent(name)}`).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      }
      return;
    }
    const subsets = computeEndpointSubsets(svc, podsOf(svc, cache.pods.values()));
    const labels = endpointsLabels(svc);
    if (current && jsonEqual(current.subsets ?? [], subsets) && jsonEqual(current.metadata?.labels ?? {}, labels))
      return;
    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...current?.metadata, name, namespace, labels },
      subsets,
    };
    // A conflict, or an Endpoints created meanwhile, fails this sync; the queue retries it from a fresh GET.
    if (current) await client.request('PUT', `${path}/${encodeURIComponent(name)}`, desired);
    else await client.request('POST', path, desired);
    log.debug({ service: key, subsets: subsets.length }, 'endpoints updated');
  });
}
