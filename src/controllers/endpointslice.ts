// The EndpointSlice controller (upstream pkg/controller/endpointslice): for every Service with a selector,
// discovery.k8s.io/v1 EndpointSlices (IPv4) of its pods, each with ready/serving/terminating conditions, the
// pod as targetRef and its node. Pods whose service ports resolve to the same port numbers share slices (a
// named port a pod does not define is simply absent from its slice's ports), at most 100 endpoints a slice.
// A Service with no endpoints gets one empty placeholder slice, as upstream. Slices carry an ownerReference to
// their Service, and are deleted here when it goes (there is no garbage collector yet to do it).
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
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
  podIPv4,
  podsOf,
  runServicePodSync,
  shouldPodBeInEndpoints,
} from './endpoint-util.js';
import { headlessLabel } from './endpoints.js';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
export const maxEndpointsPerSlice = 100;

/** Endpoints that share one set of ports. */
export interface SliceGroup {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

const portsKey = (ports: readonly EndpointPort[]): string =>
  JSON.stringify(
    ports
      .map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? ''])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
  );

function podEndpoint(svc: Service, pod: Pod): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  // A terminating pod is never "ready", unless the Service publishes not-ready addresses.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [podIPv4(pod)!],
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const hostname = endpointHostname(svc, pod);
  if (hostname) ep.hostname = hostname;
  return ep;
}

function podPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** The Service's endpoints grouped by the ports they resolve to, each group in pod order. */
export function desiredSliceGroups(svc: Service, pods: readonly Pod[]): Map<string, SliceGroup> {
  const groups = new Map<string, SliceGroup>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = podPorts(svc, pod);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push(podEndpoint(svc, pod));
  }
  return groups;
}

export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {
    ...svc.metadata?.labels,
    [serviceNameLabel]: svc.metadata?.name ?? '',
    [managedByLabel]: controllerName,
  };
  if (isHeadless(svc)) labels[headlessLabel] = '';
  return labels;
}

function newSlice(svc: Service, ports: EndpointPort[] | undefined, endpoints: Endpoint[]): EndpointSlice {
  const m = svc.metadata ?? {};
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${m.name}-`,
      namespace: m.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: m.name ?? '',
          uid: m.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: 'IPv4',
    endpoints,
  };
  if (ports) slice.ports = ports;
  return slice;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/**
 * What to write so that `existing` becomes the desired slices: slices with the right ports are reused in
 * order (rewritten only when their endpoints or labels differ), missing ones created, left-over ones deleted.
 */
export function planSlices(svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[]): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const groups = desiredSliceGroups(svc, pods);
  const wanted: { key: string; ports: EndpointPort[] | undefined; endpoints: Endpoint[] }[] = [];
  for (const [key, g] of groups)
    for (let i = 0; i < g.endpoints.length; i += maxEndpointsPerSlice)
      wanted.push({ key, ports: g.ports, endpoints: g.endpoints.slice(i, i + maxEndpointsPerSlice) });
  // No endpoints at all: one placeholder slice with neither ports nor endpoints.
  if (wanted.length === 0) wanted.push({ key: 'placeholder', ports: undefined, endpoints: [] });
  const available = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = !s.ports?.length && !s.endpoints?.length ? 'placeholder' : portsKey(s.ports ?? []);
    available.set(key, [...(available.get(key) ?? []), s]);
  }
  const labels = sliceLabels(svc);
  for (const w of wanted) {
    const reuse = available.get(w.key)?.shift();
    const desired = newSlice(svc, w.ports, w.endpoints);
    if (!reuse) {
      plan.create.push(desired);
      continue;
    }
    if (
      jsonEqual(reuse.endpoints ?? [], w.endpoints) &&
      jsonEqual(reuse.metadata?.labels ?? {}, labels) &&
      jsonEqual(reuse.metadata?.ownerReferences, desired.metadata?.ownerReferences)
    )
      continue;
    plan.update.push({
      ...desired,
      metadata: { ...reuse.metadata, ...desired.metadata, generateName: reuse.metadata?.generateName },
    });
  }
  for (const rest of available.values()) plan.delete.push(...rest);
  return plan;
}

export function runEndpointSliceController(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const owned = {
    path: `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=${encodeURIComponent(`${managedByLabel}=${controllerName}`)}`,
    serviceKey: (s: EndpointSlice) => {
      const service = s.metadata?.labels?.[serviceNameLabel];
      return service ? `${s.metadata?.namespace}/${service}` : undefined;
    },
  };
  return runServicePodSync(client, log, signal, owned, async (key, cache) => {
    const [namespace = '', name = ''] = key.split('/');
    const svc = cache.services.get(key);
    // A Service without a selector gets its slices from someone else (upstream leaves them alone too).
    if (svc && !hasSelector(svc)) return;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`;
    const selector = encodeURIComponent(`${serviceNameLabel}=${name},${managedByLabel}=${controllerName}`);
    const existing = (await client.get<{ items: EndpointSlice[] }>(`${path}?labelSelector=${selector}`)).items;
    // A deleted Service's slices go here, as the garbage collector would take them.
    const plan: SlicePlan = svc
      ? planSlices(svc, podsOf(svc, cache.pods.values()), existing)
      : { create: [], update: [], delete: existing };
    for (const s of plan.delete)
      await client.request('DELETE', `${path}/${encodeURIComponent(s.metadata?.name ?? '')}`).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    for (const s of plan.update)
      await client.request('PUT', `${path}/${encodeURIComponent(s.metadata?.name ?? '')}`, s);
    for (const s of plan.create) await client.request('POST', path, s);
    if (plan.create.length + plan.update.length + plan.delete.length)
      log.debug(
        { service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length },
        'endpointslices updated'
      );
  });
}
