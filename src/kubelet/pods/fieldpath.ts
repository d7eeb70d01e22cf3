// Values of the downward API (upstream pkg/fieldpath and pkg/kubelet's podFieldSelectorRuntimeValue), shared by
// env (fieldRef, resourceFieldRef) and downwardAPI / projected volumes.
import { Quantity } from '../../api/validation/quantity.js';
import type { Pod, Container } from 'kubernetes-types/core/v1.js';

/** Upstream's FormatMap: sorted `key="value"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

export interface PodIPs {
  hostIP: string;
  podIP: string;
}

/** The value of a fieldRef path, or an error message naming the unsupported path. */
export function fieldValue(pod: Pod, path: string, ips: PodIPs): string | Error {
  const md = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? md.labels : md.annotations)?.[sub[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'metadata.labels':
      return formatMap(md.labels);
    case 'metadata.annotations':
      return formatMap(md.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ips.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ips.podIP;
  }
  return new Error(`unsupported fieldPath: ${path}`);
}

/**
 * A resourceFieldRef value: the container's limit or request in units of `divisor`, rounded up; an unset limit
 * is the node's allocatable amount, as upstream's MergeContainerResourceLimits makes it.
 */
export function resourceValue(
  container: Container,
  resource: string,
  divisor: string | number | undefined,
  allocatable: Record<string, string>
): string | Error {
  const [kind, name] = resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name)
    return new Error(`unsupported container resource: ${resource}`);
  const set = (kind === 'limits' ? container.resources?.limits : container.resources?.requests) as
    Record<string, string | number> | undefined;
  const raw = set?.[name] ?? (kind === 'limits' ? allocatable[name] : undefined) ?? 0;
  const q = Quantity.parse(raw);
  const d = Quantity.parse(divisor ?? 1);
  if (name === 'cpu') return String(Math.ceil(q.milliValue() / d.milliValue()));
  return String(Math.ceil(q.value() / d.value()));
}
