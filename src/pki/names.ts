import { canonicalIP } from './ip.js';
import * as x509 from './x509.js';

/** The identity fields Kubernetes reads from a certificate or CSR: user name (CN) and groups (O). */
export interface Subject {
  commonName: string;
  organizations: string[];
}

/**
 * Builds an X.500 name from a common name and organizations, each value its own RDN, O before CN as Go orders
 * them. Structured input, never a DN string: a comma or `+` inside a name must not split it.
 */
export function subjectName(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

/** Reads the common name and organizations of an X.500 name. */
export function readSubject(name: x509.Name): Subject {
  return { commonName: name.getField('CN')[0] ?? '', organizations: name.getField('O') };
}

/**
 * Builds the subjectAltName extension, or nothing when there are no names. IP addresses are canonicalised first
 * (IPv4-mapped IPv6 becomes IPv4), so they encode as 4 or 16 octets exactly as Go encodes them.
 *
 * @throws Error naming the value when an IP address is invalid.
 */
export function sanExtension(
  dnsNames: readonly string[] = [],
  ipAddresses: readonly string[] = []
): x509.SubjectAlternativeNameExtension | undefined {
  if (dnsNames.length === 0 && ipAddresses.length === 0) return undefined;
  return new x509.SubjectAlternativeNameExtension([
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value: canonicalIP(value) })),
  ]);
}

/** Reads DNS names and IP addresses from a subjectAltName extension, if there is one. */
export function readSANs(ext: x509.SubjectAlternativeNameExtension | null | undefined): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  const names = ext?.names.toJSON() ?? [];
  return {
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
  };
}
