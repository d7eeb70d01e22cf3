import { createPublicKey } from 'node:crypto';
import type { CertKeyPair } from './ca.js';
import { issueCertificate, type CertificateUsage } from './certificates.js';
import { DEFAULT_KEY_ALGORITHM, describeKey, generatePrivateKey, importSigner, type KeyAlgorithm } from './keys.js';
import { readSANs, readSubject, sanExtension, subjectName } from './names.js';
import * as x509 from './x509.js';

const SUBJECT_ALT_NAME_OID = '2.5.29.17';

/** Options for {@link createCSR}. */
export interface CreateCSROptions {
  /** Subject CN: the user name the certificate will carry (`system:node:<name>` for a kubelet). */
  commonName: string;
  /** Subject O: the groups the certificate will carry (`system:nodes` for a kubelet). */
  organizations?: readonly string[];
  /** Requested DNS SANs, carried in the PKCS#9 extensionRequest attribute. */
  dnsNames?: readonly string[];
  /** Requested IP SANs, carried in the PKCS#9 extensionRequest attribute. */
  ipAddresses?: readonly string[];
  /** An existing private key (PEM) to request for, as when renewing; otherwise one is generated. */
  key?: string;
  /** The algorithm of a generated key. @default 'ECDSA-P256' */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * Creates a PKCS#10 certificate signing request, signed with its own key as PKCS#10 requires (proof of
 * possession).
 *
 * @returns the CSR PEM (`CERTIFICATE REQUEST`) and the private key PEM it was signed with.
 */
export async function createCSR(options: CreateCSROptions): Promise<{ csr: string; key: string }> {
  const key = options.key ?? (await generatePrivateKey(options.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM));
  const signer = await importSigner(key);
  const san = sanExtension(options.dnsNames, options.ipAddresses);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(options.commonName, options.organizations),
    keys: signer.keys,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: san == null ? [] : [san],
  });
  return { csr: csr.toString('pem'), key };
}

/** What {@link parseCSR} reads from a CSR. */
export interface CSRInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  /** Email and URI SANs: no Kubernetes signer issues them, so they are read only to be refused. */
  emailAddresses: string[];
  uris: string[];
  /** The requester's public key, PEM SPKI (`PUBLIC KEY`). */
  publicKeyPem: string;
  /** Whether the CSR's self-signature verifies with its own public key; `false` means it was altered. */
  signatureValid: boolean;
  /** kubeadm's naming: `ECDSA-P256`, `RSA-2048`, …; Node's key type for others (`ed25519`). */
  keyAlgorithm: string;
}

/**
 * Reads a PEM CSR. A bad signature is reported in `signatureValid`, not thrown, so that callers (the CSR
 * approver) can say why they refuse it.
 *
 * @throws Error when the PEM is not a CSR.
 */
export async function parseCSR(pem: string): Promise<CSRInfo> {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const subjectAltName = csr.getExtension(SUBJECT_ALT_NAME_OID);
  const sanExt = subjectAltName instanceof x509.SubjectAlternativeNameExtension ? subjectAltName : null;
  const sanNames = sanExt?.names.toJSON() ?? [];
  const publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  let signatureValid: boolean;
  try {
    signatureValid = await csr.verify();
  } catch {
    signatureValid = false; // an unsupported or malformed signature proves nothing either
  }
  return {
    ...readSubject(csr.subjectName),
    ...readSANs(sanExt),
    emailAddresses: sanNames.filter((n) => n.type === 'email').map((n) => n.value),
    uris: sanNames.filter((n) => n.type === 'url').map((n) => n.value),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    signatureValid,
    keyAlgorithm: describeKey(publicKey),
  };
}

/** Options for {@link signCSR}. */
export interface SignCSROptions {
  ca: CertKeyPair;
  csrPem: string;
  /** From the CertificateSigningRequest's `spec.usages`, already checked against what the signer allows. */
  usages: readonly CertificateUsage[];
  /** From `spec.expirationSeconds` or the signer's default; capped at the CA's notAfter. */
  validityMs: number;
}

/**
 * Signs a CSR with a CA, copying its subject and requested SANs into the certificate (what upstream's
 * `kubernetes.io/*` signers do once a request is approved).
 *
 * @returns the certificate PEM.
 * @throws Error when the CSR's signature does not verify, or for any reason {@link issueCertificate} throws.
 */
export async function signCSR(options: SignCSROptions): Promise<string> {
  const request = await parseCSR(options.csrPem);
  if (!request.signatureValid) throw new Error('the certificate signing request signature does not verify');
  const { cert } = await issueCertificate({
    ca: options.ca,
    commonName: request.commonName,
    organizations: request.organizations,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
    usages: options.usages,
    validityMs: options.validityMs,
    publicKey: request.publicKeyPem,
  });
  return cert;
}
