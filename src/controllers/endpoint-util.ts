// What the Endpoints and EndpointSlice controllers share (upstream pkg/controller/util/endpoint and
// podutil.FindPort): which pods belong in a Service's endpoints, the port a service port reaches on a pod, and
// informers over Services and pods that queue the Services a change concerns.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../lib/kube-client.js';
import { runInformer } from '../lib/informer.js';
import type { Logger } from '../lib/log.js';
import { WorkQueue } from './queue.js';

export const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export const isPodReady = (pod: Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The pod's IPv4 address, the only address family these controllers publish. */
export function podIPv4(pod: Pod): string | undefined {
  const ips = [...(pod.status?.podIPs ?? []).map((p) => p.ip), pod.status?.podIP];
  return ips.find((ip): ip is string => !!ip && ip.includes('.'));
}

/**
 * Upstream ShouldPodBeInEndpoints: a pod with an IP that has not finished for good (a pod that restarts
 * never finishes) and, unless terminating pods are wanted, is not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!podIPv4(pod)) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  switch (pod.spec?.restartPolicy) {
    case 'Never':
      return phase !== 'Failed' && phase !== 'Succeeded';
    case 'OnFailure':
      return phase !== 'Succeeded';
    default:
      return true;
  }
}

/**
 * Upstream podutil.FindPort: a numbered targetPort is used as it is; a named one is looked up in the pod's
 * containers' ports (same name and protocol). Undefined when the pod has no such port.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  return undefined;
}

/** A Service these controllers manage: one with a non-empty selector. */
export const hasSelector = (svc: Service): boolean => Object.keys(svc.spec?.selector ?? {}).length > 0;

export function selects(svc: Service, pod: Pod): boolean {
  if (svc.metadata?.namespace !== pod.metadata?.namespace || !hasSelector(svc)) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(svc.spec!.selector!).every(([k, v]) => labels[k] === v);
}

/** The Service's pods, in a stable order, whether or not they belong in its endpoints. */
export function podsOf(svc: Service, pods: Iterable<Pod>): Pod[] {
  return [...pods].filter((p) => selects(svc, p)).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

export const isHeadless = (svc: Service): boolean => svc.spec?.clusterIP === 'None';

/** Hostname published for a pod: its spec.hostname, when its subdomain names this Service (DNS A records). */
export function endpointHostname(svc: Service, pod: Pod): string | undefined {
  return pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name ? pod.spec.hostname : undefined;
}

export interface ServicePodCache {
  services: Map<string, Service>;
  pods: Map<string, Pod>;
}

/** The objects a controller writes, watched so that one changed or deleted by someone else is put back. */
export interface OwnedObjects<T> {
  path: string;
  /** The key of the Service an object belongs to. */
  serviceKey: (obj: T) => string | undefined;
}

/**
 * Runs Service and pod informers and a work queue of Service keys: a Service is synced when it changes, when
 * one of its pods (by the old or the new labels) comes, goes or changes, and when an object it owns does.
 * Nothing is synced before Services and pods have been listed, so a controller never writes endpoints from a
 * partial view.
 */
export function runServicePodSync<T>(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  owned: OwnedObjects<T>,
  sync: (key: string, cache: ServicePodCache) => Promise<void>
): Promise<void> {
  const cache: ServicePodCache = { services: new Map(), pods: new Map() };
  const queue = new WorkQueue((key) => sync(key, cache), log, signal);
  let servicesSynced = false;
  let podsSynced = false;
  const ready = (): boolean => servicesSynced && podsSynced;
  const enqueueFor = (pod: Pod): void => {
    for (const [key, svc] of cache.services) if (selects(svc, pod)) queue.add(key);
  };
  const onSynced = (): void => {
    if (ready()) for (const key of cache.services.keys()) queue.add(key);
  };
  const services = runInformer<Service>(
    client,
    '/api/v1/services',
    log,
    signal,
    (type, svc) => {
      const key = keyOf(svc);
      if (type === 'DELETED') cache.services.delete(key);
      else cache.services.set(key, svc);
      if (ready()) queue.add(key);
    },
    {
      onSynced: () => {
        servicesSynced = true;
        onSynced();
      },
    }
  );
  const pods = runInformer<Pod>(
    client,
    '/api/v1/pods',
    log,
    signal,
    (type, pod) => {
      const key = keyOf(pod);
      const old = cache.pods.get(key);
      if (type === 'DELETED') cache.pods.delete(key);
      else cache.pods.set(key, pod);
      if (!ready()) return;
      if (old) enqueueFor(old);
      enqueueFor(pod);
    },
    {
      onSynced: () => {
        podsSynced = true;
        onSynced();
      },
    }
  );
  const objects = runInformer<T>(client, owned.path, log, signal, (_type, obj) => {
    const key = owned.serviceKey(obj);
    if (key && ready()) queue.add(key);
  });
  return Promise.all([services, pods, objects]).then(() => undefined);
}
