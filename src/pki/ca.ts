import { randomBytes } from 'node:crypto';
import { DEFAULT_KEY_ALGORITHM, generatePrivateKey, importSigner, type KeyAlgorithm } from './keys.js';
import { subjectName } from './names.js';
import * as x509 from './x509.js';

/** A certificate and its private key, both PEM. */
export interface CertKeyPair {
  cert: string;
  key: string;
}

/** Options for {@link createCA}. */
export interface CreateCAOptions {
  /** The CA's subject CN; kubeadm uses `kubernetes`. */
  commonName: string;
  /** @default 3650 (ten years, kubeadm's CA lifetime) */
  validityDays?: number;
  /** @default 'ECDSA-P256' */
  keyAlgorithm?: KeyAlgorithm;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How far notBefore is set in the past, so a certificate is valid at once on a machine whose clock runs a little
 * behind ours (kubeadm's `CertificateBackdate`, the CSR signer's `backdate`).
 */
export const CERTIFICATE_BACKDATE_MS = 5 * 60 * 1000;

/** A random positive serial number of up to 128 bits, as Go's `rand.Int(rand.Reader, 2^128)` draws them. */
export function randomSerialNumber(): string {
  return randomBytes(16).toString('hex'); // x509 prefixes a zero octet when the top bit is set, keeping it positive
}

/**
 * Creates a self-signed certificate authority: basicConstraints CA:TRUE (critical), keyUsage keyCertSign,
 * cRLSign and digitalSignature (critical), and a subjectKeyIdentifier that issued certificates point back to.
 *
 * @returns the CA certificate and its new private key (PKCS#8), both PEM.
 */
export async function createCA(options: CreateCAOptions): Promise<CertKeyPair> {
  const validityDays = options.validityDays ?? 3650;
  if (!(validityDays > 0)) throw new Error(`invalid CA validity ${validityDays} days: must be positive`);
  const key = await generatePrivateKey(options.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const signer = await importSigner(key);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: subjectName(options.commonName),
    notBefore: new Date(now - CERTIFICATE_BACKDATE_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
    keys: signer.keys,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true
      ),
      await x509.SubjectKeyIdentifierExtension.create(signer.keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key };
}
