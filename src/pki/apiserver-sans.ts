import { canonicalIP, formatIP, parseCIDR, parseIP } from './ip.js';

const SERVICE_RANGE = 'service cluster IP range';

/** The subject alternative names of the API server's serving certificate. */
export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** Inputs to {@link apiServerSANs}, named as the kube-apiserver flags they come from. */
export interface APIServerSANsOptions {
  /** The node's host name; an IP literal here lands among the IP SANs. */
  hostname: string;
  /** `--advertise-address`: the IP other members of the cluster reach the API server at. */
  advertiseAddress: string;
  /**
   * `--service-cluster-ip-range`: one CIDR, or a dual-stack pair separated by a comma. The `kubernetes` Service
   * takes its ClusterIP from the first (primary) range, so only that range contributes a SAN.
   */
  serviceClusterIPRange: string;
}

/**
 * Returns the first usable IP of a service CIDR (network address + 1): the ClusterIP of the `kubernetes`
 * Service, as upstream's `ServiceIPRange` computes it.
 *
 * @throws Error naming the value when the CIDR is malformed or has no room for a service IP (a /32 or /128).
 */
export function firstServiceIP(cidr: string): string {
  const parsed = parseCIDR(cidr, SERVICE_RANGE);
  if (parsed.prefix === (parsed.family === 4 ? 32 : 128)) {
    throw new Error(`invalid ${SERVICE_RANGE} "${cidr}": the range holds no address after the network`);
  }
  return formatIP({ family: parsed.family, value: parsed.network + 1n });
}

/**
 * Lists the names the API server must answer to, as kubeadm's `apiserver` certificate does: loopback (so local
 * clients verify it), the host name and advertise address, every name of the `kubernetes` Service in the
 * `default` namespace, and that Service's ClusterIP (what pods reach through kube-proxy).
 *
 * @throws Error naming the bad value when the advertise address is not an IP or the range is not a CIDR.
 */
export function apiServerSANs(options: APIServerSANsOptions): SubjectAltNames {
  const ranges = options.serviceClusterIPRange.split(',').map((r) => r.trim());
  for (const range of ranges) parseCIDR(range, SERVICE_RANGE);
  if (options.hostname === '') throw new Error('invalid hostname "": must not be empty');
  if (parseIP(options.advertiseAddress) == null) {
    throw new Error(`invalid advertise address "${options.advertiseAddress}": not an IP address`);
  }
  const hostname = options.hostname.toLowerCase();
  const hostIsIP = parseIP(hostname) != null;
  const dnsNames = [
    'localhost',
    ...(hostIsIP ? [] : [hostname]),
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  const ipAddresses = [
    '127.0.0.1',
    '::1',
    ...(hostIsIP ? [canonicalIP(hostname)] : []),
    canonicalIP(options.advertiseAddress),
    firstServiceIP(ranges[0] ?? ''),
  ];
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}
