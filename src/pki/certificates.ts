import { createHash, createPublicKey, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { CERTIFICATE_BACKDATE_MS, randomSerialNumber, type CertKeyPair } from './ca.js';
import { DEFAULT_KEY_ALGORITHM, generatePrivateKey, importSigner, type KeyAlgorithm } from './keys.js';
import { readSANs, readSubject, sanExtension, subjectName } from './names.js';
import * as x509 from './x509.js';

/** What a certificate may be used for: TLS serving (serverAuth) and/or TLS client auth (clientAuth). */
export type CertificateUsage = 'server' | 'client';

const EXT_KEY_USAGE: Record<CertificateUsage, x509.ExtendedKeyUsage> = {
  server: x509.ExtendedKeyUsage.serverAuth,
  client: x509.ExtendedKeyUsage.clientAuth,
};

interface IssueCertificateBase {
  /** The issuing CA's certificate and private key. */
  ca: CertKeyPair;
  /** Subject CN: the user name Kubernetes' x509 authenticator reads. */
  commonName: string;
  /** Subject O values: the groups Kubernetes' x509 authenticator reads. */
  organizations?: readonly string[];
  dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses; IPv6 is encoded as 16 octets, IPv4 (and IPv4-mapped IPv6) as 4. */
  ipAddresses?: readonly string[];
  /** At least one. */
  usages: readonly CertificateUsage[];
  /**
   * The subject's public key (PEM SPKI), when the key pair lives elsewhere, as with a CSR. When absent a new
   * key is generated and returned.
   */
  publicKey?: string;
  /** The algorithm of a generated key. @default 'ECDSA-P256' */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * Options for {@link issueCertificate}: the lifetime is `validityMs` from now or an absolute `notAfter`. Either
 * way notAfter never passes the CA's own notAfter, as upstream's CSR signer caps it.
 */
export type IssueCertificateOptions = IssueCertificateBase &
  ({ validityMs: number; notAfter?: undefined } | { notAfter: Date; validityMs?: undefined });

/**
 * Issues a leaf certificate signed by a CA: basicConstraints CA:FALSE and keyUsage digitalSignature (plus
 * keyEncipherment for RSA keys), both critical; extKeyUsage from `usages`; the subjectAltName; an
 * authorityKeyIdentifier matching the CA's subjectKeyIdentifier; a random 128-bit serial; notBefore backdated by
 * {@link CERTIFICATE_BACKDATE_MS} (but not before the CA's).
 *
 * @returns the certificate PEM, and the new private key (PKCS#8 PEM) unless `publicKey` was given.
 * @throws Error when the CA key does not match the CA certificate, the CA certificate is not a CA, no usage is
 *   given, an IP address is invalid, or the lifetime has already ended.
 */
export function issueCertificate(options: IssueCertificateOptions & { publicKey: string }): Promise<{ cert: string }>;
export function issueCertificate(options: IssueCertificateOptions & { publicKey?: undefined }): Promise<CertKeyPair>;
export function issueCertificate(options: IssueCertificateOptions): Promise<{ cert: string; key?: string }>;
export async function issueCertificate(options: IssueCertificateOptions): Promise<{ cert: string; key?: string }> {
  const caCert = new x509.X509Certificate(options.ca.cert);
  const caName = readSubject(caCert.subjectName).commonName;
  if (!keyMatchesCertificate(options.ca.key, options.ca.cert)) {
    throw new Error(`the CA private key does not match the certificate of CA "${caName}"`);
  }
  if (caCert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new Error(`certificate "${caName}" is not a CA (basicConstraints CA:TRUE is missing)`);
  }
  const usages = [...new Set(options.usages)];
  if (usages.length === 0) throw new Error('a certificate needs at least one usage (server or client)');

  const san = sanExtension(options.dnsNames, options.ipAddresses); // validates the IPs before any key work

  const now = Date.now();
  const requested = options.notAfter?.getTime() ?? now + (options.validityMs ?? NaN);
  const notAfter = Math.min(requested, caCert.notAfter.getTime());
  if (!(notAfter > now)) throw new Error(`certificate for "${options.commonName}" would already be expired`);
  const notBefore = Math.max(now - CERTIFICATE_BACKDATE_MS, caCert.notBefore.getTime());

  let key: string | undefined;
  let subjectKey: KeyObject;
  if (options.publicKey != null) {
    subjectKey = createPublicKey(options.publicKey);
  } else {
    key = await generatePrivateKey(options.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
    subjectKey = createPublicKey(key);
  }
  // keyEncipherment means RSA key transport; RFC 5480 forbids it on EC keys, so only RSA keys get it.
  const keyUsages =
    x509.KeyUsageFlags.digitalSignature |
    (subjectKey.asymmetricKeyType === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsages, true),
    new x509.ExtendedKeyUsageExtension(usages.map((u) => EXT_KEY_USAGE[u])),
    caKeyId != null
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (san != null) extensions.push(san);

  const caSigner = await importSigner(options.ca.key);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: subjectName(options.commonName, options.organizations),
    issuer: caCert.subjectName,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: new x509.PublicKey(new Uint8Array(subjectKey.export({ type: 'spki', format: 'der' }))),
    signingKey: caSigner.keys.privateKey,
    signingAlgorithm: caSigner.signingAlgorithm,
    extensions,
  });
  return key == null ? { cert: cert.toString('pem') } : { cert: cert.toString('pem'), key };
}

/** What {@link parseCertificate} reads from a certificate. */
export interface CertificateInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  /** Canonical text: IPv6 compressed and lower case (`::1`). */
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  issuerCommonName: string;
  /** basicConstraints CA:TRUE. */
  isCA: boolean;
  /** Extended key usages hubspoke knows; others are left out. */
  usages: CertificateUsage[];
  /** Lower-case hex, without leading zero octets. */
  serialNumber: string;
  /** SHA-256 of the DER certificate, lower-case hex without separators. */
  fingerprintSha256: string;
}

/**
 * Reads the fields Kubernetes cares about from a PEM certificate.
 *
 * @throws Error when the PEM is not a certificate.
 */
export function parseCertificate(pem: string): CertificateInfo {
  const cert = new x509.X509Certificate(pem);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  const usages = (Object.keys(EXT_KEY_USAGE) as CertificateUsage[]).filter((u) => eku.includes(EXT_KEY_USAGE[u]));
  return {
    ...readSubject(cert.subjectName),
    ...readSANs(cert.getExtension(x509.SubjectAlternativeNameExtension)),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    issuerCommonName: readSubject(cert.issuerName).commonName,
    isCA: cert.getExtension(x509.BasicConstraintsExtension)?.ca === true,
    usages,
    serialNumber: cert.serialNumber.toLowerCase(),
    fingerprintSha256: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
  };
}

/**
 * Checks that `caPem` issued `certPem`: the issuer name (and key identifiers) match and the signature verifies
 * with the CA's key. Validity dates are not checked here.
 *
 * @throws Error when either PEM is not a certificate.
 */
export function verifyIssuedBy(certPem: string, caPem: string): boolean {
  const cert = new NodeX509Certificate(certPem);
  const ca = new NodeX509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** Whether a private key (PEM) is the one whose public half a certificate (PEM) carries. */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const certKey = new NodeX509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createPublicKey(keyPem).export({ type: 'spki', format: 'der' }).equals(certKey);
}
