import { createHash } from 'node:crypto';
import * as x509 from './x509.js';

/**
 * Returns the CA pin a joining node checks the cluster CA against, in kubeadm's
 * `--discovery-token-ca-cert-hash` format: `sha256:` and the lower-case hex SHA-256 of the certificate's DER
 * SubjectPublicKeyInfo. The SPKI bytes are hashed exactly as they appear in the certificate (kubeadm hashes
 * `RawSubjectPublicKeyInfo`), never re-encoded.
 *
 * @throws Error when the PEM is not a certificate.
 */
export function caCertHash(caCertPem: string): string {
  const spki = new x509.X509Certificate(caCertPem).publicKey.rawData;
  return `sha256:${createHash('sha256').update(new Uint8Array(spki)).digest('hex')}`;
}
