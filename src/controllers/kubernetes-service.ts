// The `kubernetes` Service in `default` and its Endpoints and EndpointSlice (upstream's kube-apiserver
// "kubernetesservice" controller with the lease endpoint reconciler), here a controller like the others.
//
// Service: ClusterIP = the first IP of the service range, port `https` 443 → the API servers' secure port,
// created when missing; its ports are restored if they drift (the secure port changed across a restart).
// Endpoints and EndpointSlice `kubernetes` list the live API servers. Live = the API-server identity Leases in
// kube-system (label apiserver.kubernetes.io/identity=kube-apiserver) whose renewTime + leaseDurationSeconds is
// still ahead, each giving its address and port in the hubspoke.io/advertise-address and hubspoke.io/secure-port
// annotations. With no live lease the local server, given at start-up, stands in for them.
import { isIP } from 'node:net';
import { isAlreadyExists, isConflict } from '../api/errors.js';
import { jsonEqual } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

export const apiServerIdentityLabel = 'apiserver.kubernetes.io/identity';
export const advertiseAddressAnnotation = 'hubspoke.io/advertise-address';
export const securePortAnnotation = 'hubspoke.io/secure-port';

export interface APIServerEndpoint {
  ip: string;
  port: number;
}

interface Lease {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { renewTime?: string; leaseDurationSeconds?: number };
}

export interface KubernetesServiceConfig {
  /** The first IP of --service-cluster-ip-range. */
  clusterIP: string;
  /** This API server, used while no API-server lease is live. */
  local: APIServerEndpoint;
  /** How often the leases are re-read for expiry. @default 5000 */
  resyncMs?: number;
}

/** The live API servers among the identity leases, sorted by address; `[local]` when there are none. */
export function liveAPIServers(
  leases: Iterable<Lease>,
  local: APIServerEndpoint,
  now = Date.now()
): APIServerEndpoint[] {
  const live = new Map<string, APIServerEndpoint>();
  for (const l of leases) {
    const renew = Date.parse(l.spec?.renewTime ?? '');
    const duration = l.spec?.leaseDurationSeconds ?? 0;
    if (Number.isNaN(renew) || renew + duration * 1000 <= now) continue;
    const ip = l.metadata.annotations?.[advertiseAddressAnnotation] ?? '';
    const port = Number(l.metadata.annotations?.[securePortAnnotation]);
    if (!isIP(ip) || !Number.isInteger(port) || port <= 0 || port > 65535) continue;
    live.set(`${ip}:${port}`, { ip, port });
  }
  const list = live.size ? [...live.values()] : [local];
  return list.sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
}

const httpsPort = (port: number) => ({ name: 'https', port, protocol: 'TCP' });

/** Endpoints subsets: one per secure port in use, each listing the servers on it (the local port's first). */
export function endpointSubsets(servers: APIServerEndpoint[], localPort: number) {
  const ports = [...new Set(servers.map((s) => s.port))].sort((a, b) =>
    a === localPort ? -1 : b === localPort ? 1 : a - b
  );
  return ports.map((port) => ({
    addresses: servers.filter((s) => s.port === port).map((s) => ({ ip: s.ip })),
    ports: [httpsPort(port)],
  }));
}

/** The EndpointSlice upstream derives from the Endpoints: the first subset only, IPv6 if all of it is. */
export function endpointSliceFor(subsets: ReturnType<typeof endpointSubsets>) {
  const first = subsets[0];
  const addresses = first?.addresses ?? [];
  const addressType = addresses.length && addresses.every((a) => isIP(a.ip) === 6) ? 'IPv6' : 'IPv4';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType,
    endpoints: addresses
      .filter((a) => (isIP(a.ip) === 6) === (addressType === 'IPv6'))
      .map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
    ports: first?.ports ?? [],
  };
}

type Obj = Record<string, any>;

/** Creates `desired` at `collection`, or updates the live object when `differs` says it has drifted. */
async function ensure(
  client: KubeClient,
  collection: string,
  desired: Obj,
  differs: (live: Obj) => Obj | undefined
): Promise<boolean> {
  const live = await client.getOptional<Obj>(`${collection}/${desired.metadata.name}`);
  if (!live) {
    await client.request('POST', collection, desired);
    return true;
  }
  const next = differs(live);
  if (!next) return false;
  await client.request('PUT', `${collection}/${desired.metadata.name}`, next);
  return true;
}

export function runKubernetesServiceController(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  cfg: KubernetesServiceConfig
): Promise<void> {
  const leases = new Map<string, Lease>();
  const servicePorts = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: cfg.local.port }];
  const reconcile = async (): Promise<void> => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: cfg.clusterIP,
        clusterIPs: [cfg.clusterIP],
        ipFamilyPolicy: 'SingleStack',
        sessionAffinity: 'None',
        ports: servicePorts,
      },
    };
    if (
      await ensure(client, '/api/v1/namespaces/default/services', service, (live) =>
        jsonEqual(live.spec?.ports, servicePorts) ? undefined : { ...live, spec: { ...live.spec, ports: servicePorts } }
      )
    )
      log.info({ clusterIP: cfg.clusterIP }, 'wrote Service kubernetes');

    const servers = liveAPIServers(leases.values(), cfg.local);
    const subsets = endpointSubsets(servers, cfg.local.port);
    const endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets,
    };
    if (
      await ensure(client, '/api/v1/namespaces/default/endpoints', endpoints, (live) =>
        jsonEqual(live.subsets ?? [], subsets) && jsonEqual(live.metadata?.labels, endpoints.metadata.labels)
          ? undefined
          : { ...live, metadata: { ...live.metadata, labels: endpoints.metadata.labels }, subsets }
      )
    )
      log.info({ servers }, 'wrote Endpoints kubernetes');

    const slice = endpointSliceFor(subsets);
    const slices = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
    const live = await client.getOptional<Obj>(`${slices}/kubernetes`);
    // addressType is immutable: a change of family means a new slice (as upstream).
    if (live && live.addressType !== slice.addressType) await client.request('DELETE', `${slices}/kubernetes`);
    if (
      await ensure(client, slices, slice, (cur) =>
        jsonEqual(cur.endpoints ?? [], slice.endpoints) &&
        jsonEqual(cur.ports ?? [], slice.ports) &&
        jsonEqual(cur.metadata?.labels, slice.metadata.labels)
          ? undefined
          : {
              ...cur,
              metadata: { ...cur.metadata, labels: slice.metadata.labels },
              endpoints: slice.endpoints,
              ports: slice.ports,
            }
      )
    )
      log.info({ servers }, 'wrote EndpointSlice kubernetes');
  };
  const queue = new WorkQueue(
    async (): Promise<void> => {
      try {
        await reconcile();
      } catch (err) {
        // Another API server's controller wrote first: reconcile again against what it wrote.
        if (isConflict(err) || isAlreadyExists(err)) return queue.add('kubernetes');
        throw err;
      }
    },
    log,
    signal
  );
  // Leases expire without an event, so the reconcile also runs on a timer.
  const timer = setInterval(() => queue.add('kubernetes'), cfg.resyncMs ?? 5000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  queue.add('kubernetes');
  return runInformer<Lease>(
    client,
    `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=${encodeURIComponent(`${apiServerIdentityLabel}=kube-apiserver`)}`,
    log,
    signal,
    (type, lease) => {
      if (type === 'DELETED') leases.delete(lease.metadata.name);
      else leases.set(lease.metadata.name, lease);
      queue.add('kubernetes');
    }
  );
}
