// Services (upstream printService). The server always prints wide, so load-balancer addresses are not clipped.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wide, type Printer } from './columns.js';
import { docs } from './descriptions.js';

function loadBalancerAddresses(svc: Service): string {
  const addresses = new Set<string>();
  for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip) addresses.add(ingress.ip);
    else if (ingress.hostname) addresses.add(ingress.hostname);
  }
  return [...addresses].sort().join(',');
}

function externalIP(svc: Service, type: string): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function ports(svc: Service): string {
  const pieces = (svc.spec?.ports ?? []).map((p) => {
    // TCP is the v1 default for a port's protocol.
    const protocol = p.protocol ?? 'TCP';
    return p.nodePort ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  });
  return pieces.join(',') || '<none>';
}

/** Upstream's labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.map((k) => `${k}=${labels![k]}`).join(',') || '<none>';
}

function serviceCells(obj: KubeObject, now: Date): unknown[] {
  const svc = obj as Service;
  // ClusterIP is the v1 default type; a v1 object may carry only the singular clusterIP.
  const type = svc.spec?.type ?? 'ClusterIP';
  return [
    nameOf(obj),
    type,
    svc.spec?.clusterIPs?.[0] ?? (svc.spec?.clusterIP || '<none>'),
    externalIP(svc, type),
    ports(svc),
    ageOf(obj, now),
    formatLabels(svc.spec?.selector),
  ];
}

export const servicePrinter: Printer = {
  columns: [
    nameColumn,
    column('Type', 'string', docs.serviceSpec.type),
    column('Cluster-IP', 'string', docs.serviceSpec.clusterIP),
    column('External-IP', 'string', docs.serviceSpec.externalIPs),
    column('Port(s)', 'string', docs.serviceSpec.ports),
    ageColumn,
    column('Selector', 'string', docs.serviceSpec.selector, { priority: wide }),
  ],
  cells: serviceCells,
};
