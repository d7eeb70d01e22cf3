// Where a subresource request goes (upstream's ResourceLocation / LogLocation / streamLocation, streaming.md §2):
// the `{id}` name forms, the pod's IP and port, and the service's endpoint (the node's address: ../egress/node-address.ts).
import { isIP } from 'node:net';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { StatusError } from '../../api/errors.js';
import { newBadRequest, newServiceUnavailable } from '../../api/errors.js';

export interface SchemeNamePort {
  scheme: '' | 'http' | 'https';
  name: string;
  port: string;
}

/**
 * apimachinery's SplitSchemeNamePort: `name`, `name:port`, `scheme:name:port`. Two parts are always name and
 * port, so `https:web` is the name `https` with port `web`; a scheme without a port needs `https:web:`.
 * @returns undefined for an empty name, 4+ parts or an unknown scheme
 */
export function splitSchemeNamePort(id: string): SchemeNamePort | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return undefined;
  if (name === '' || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) return undefined;
  return { scheme: scheme, name, port };
}

/** Every container of the pod (init and ephemeral included), as upstream lists them in its messages. */
function containerNames(pod: Pod): string[] {
  const spec = pod.spec;
  return [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []),
    ...((spec as { ephemeralContainers?: { name: string }[] } | undefined)?.ephemeralContainers ?? []),
  ].map((c) => c.name);
}

/** The container a log/exec/attach request is for (upstream's defaulting and messages). */
export function podContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const all = containerNames(pod);
  if (!requested) {
    const containers = pod.spec?.containers ?? [];
    if (containers.length === 1 && all.length === 1) return containers[0]!.name;
    if (all.length === 0) throw newBadRequest(`a container name must be specified for pod ${name}`);
    throw newBadRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(requested)) throw newBadRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/**
 * A container that never started has no log (upstream's kubelet validateContainerLogStatus); checked here too so
 * the answer is upstream's whatever the kubelet says.
 */
export function checkContainerLogStatus(pod: Pod, container: string, previous: boolean): void {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const s = statuses.find((c) => c.name === container);
  const podName = pod.metadata?.name ?? '';
  if (!s) return; // no status yet: the kubelet decides
  if (previous) {
    if (!s.lastState?.terminated)
      throw newBadRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  const waiting = s.state?.waiting;
  if (waiting && !s.lastState?.terminated && !s.state?.running && !s.state?.terminated)
    throw newBadRequest(
      `container "${container}" in pod "${podName}" is waiting to start: ${waiting.reason ?? 'ContainerCreating'}`
    );
}

/** An address the API server may proxy to: not loopback, link-local or unspecified (upstream's isProxyableIP). */
export function isProxyableIP(ip: string): boolean {
  if (!isIP(ip)) return false;
  if (ip === '0.0.0.0' || ip === '::' || ip === '::1') return false;
  if (/^127\./.test(ip) || /^169\.254\./.test(ip) || /^fe80:/i.test(ip)) return false;
  return true;
}

export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

/**
 * pods/proxy: the pod's first IP and the given port, else the first declared containerPort. `allowLoopback` is
 * for single-host clusters whose pods share the host network on 127.0.0.1 (the kubelet's --node-ip there).
 */
export function podProxyTarget(pod: Pod, id: SchemeNamePort, allowLoopback: boolean): ProxyTarget {
  const ip = pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP;
  if (!ip) throw newServiceUnavailable(`pod ${pod.metadata?.name ?? ''} has no IP address`);
  if (!isProxyableIP(ip) && !(allowLoopback && /^127\./.test(ip))) throw newBadRequest('address not allowed');
  let port = id.port;
  if (!port) {
    const declared = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? [])[0];
    if (declared) port = String(declared.containerPort);
  }
  const n = Number(port);
  if (!port || !Number.isInteger(n) || n <= 0 || n > 65535)
    throw newBadRequest(`invalid port ${JSON.stringify(port)} for pod ${pod.metadata?.name ?? ''}`);
  return { scheme: id.scheme || 'http', host: ip, port: n };
}

/** services/proxy: a port name or number of the service, resolved through its Endpoints to one address. */
export function serviceProxyTarget(
  svc: Service,
  endpoints: Endpoints | undefined,
  id: SchemeNamePort,
  pick: (n: number) => number = (n) => Math.floor(Math.random() * n)
): ProxyTarget {
  const name = svc.metadata?.name ?? '';
  let portName = id.port;
  if (/^\d+$/.test(portName)) {
    const byNumber = (svc.spec?.ports ?? []).find((p) => String(p.port) === portName);
    if (!byNumber) throw newServiceUnavailable(`no service port ${portName} found for service "${name}"`);
    portName = byNumber.name ?? '';
  }
  const subsets = endpoints?.subsets ?? [];
  if (subsets.length === 0) throw newServiceUnavailable(`no endpoints available for service "${name}"`);
  const candidates = subsets.flatMap((s) => {
    const port = (s.ports ?? []).find((p) => (p.name ?? '') === portName);
    return port && s.addresses?.length ? [{ addresses: s.addresses, port: port.port }] : [];
  });
  if (candidates.length === 0) throw newServiceUnavailable(`no endpoints available for service "${name}"`);
  const subset = candidates[pick(candidates.length)]!;
  const address = subset.addresses[pick(subset.addresses.length)]!;
  return { scheme: id.scheme || 'http', host: address.ip, port: subset.port };
}

export function invalidRequest(kind: string, id: string): StatusError {
  return newBadRequest(`invalid ${kind} request "${id}"`);
}
