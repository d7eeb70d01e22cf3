// What each kubernetes.io signer accepts (upstream pkg/apis/certificates/helpers.go and the csrsigning
// controller's isRequestForSigner), shared by the approver and the signer, with upstream's error strings.
// Plus a key-strength check upstream leaves to Go's x509 parser: RSA below 2048 bits and curves other than
// the NIST ones are refused.
import { createPublicKey } from 'node:crypto';
import { parseCSR, type CSRInfo } from '../pki/index.js';

export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';
export const kubeAPIServerClientSigner = 'kubernetes.io/kube-apiserver-client';

export interface CSRCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** The parts of a certificates.k8s.io/v1 CertificateSigningRequest the controllers read. */
export interface CertificateSigningRequest {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; [k: string]: unknown };
  spec: {
    /** base64 of the PEM */
    request: string;
    signerName: string;
    usages?: string[];
    expirationSeconds?: number;
    username?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
  };
  status?: { conditions?: CSRCondition[]; certificate?: string };
}

export const hasCondition = (csr: CertificateSigningRequest, type: string): boolean =>
  (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** The PEM inside spec.request, parsed; a string saying why when it is not a usable request. */
export async function parseRequest(csr: CertificateSigningRequest): Promise<CSRInfo | string> {
  try {
    return await parseCSR(Buffer.from(csr.spec.request ?? '', 'base64').toString('latin1'));
  } catch (err) {
    return `unable to parse csr "${csr.metadata.name}": ${err instanceof Error ? err.message : String(err)}`;
  }
}

const nistCurves = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Why the requested public key is too weak to certify, or undefined. */
export function keyStrengthError(publicKeyPem: string): string | undefined {
  const key = createPublicKey(publicKeyPem);
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      return bits < 2048 ? `RSA keys must be at least 2048 bits, got ${bits}` : undefined;
    }
    case 'ec':
      return nistCurves.has(details.namedCurve ?? '')
        ? undefined
        : `unsupported elliptic curve ${details.namedCurve ?? 'unknown'}: want P-256, P-384 or P-521`;
    case 'ed25519':
      return undefined;
    default:
      return `unsupported public key algorithm ${key.asymmetricKeyType ?? 'unknown'}`;
  }
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const s = new Set(a);
  return s.size === new Set(b).size && b.every((x) => s.has(x));
};
/** Go's `%v` of a sorted string set. */
const goList = (xs: readonly string[]): string => `[${[...xs].sort().join(' ')}]`;

const kubeletClientUsages = ['digital signature', 'key encipherment', 'client auth'];
const kubeletClientUsagesNoRSA = ['digital signature', 'client auth'];
const kubeletServingUsages = ['digital signature', 'key encipherment', 'server auth'];
const kubeletServingUsagesNoRSA = ['digital signature', 'server auth'];
const kubeAPIServerClientUsages = ['digital signature', 'key encipherment', 'client auth'];

const isSystemNodes = (req: CSRInfo): boolean =>
  req.organizations.length === 1 && req.organizations[0] === 'system:nodes';

/** upstream ValidateKubeletClientCSR */
export function kubeletClientError(req: CSRInfo, usages: readonly string[]): string | undefined {
  if (!isSystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, kubeletClientUsages) && !sameSet(usages, kubeletClientUsagesNoRSA))
    return `usages did not match ${goList(kubeletClientUsages)}`;
  return undefined;
}

/** upstream ValidateKubeletServingCSR */
export function kubeletServingError(req: CSRInfo, usages: readonly string[]): string | undefined {
  if (!isSystemNodes(req)) return 'subject organization is not system:nodes';
  if (!req.dnsNames.length && !req.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, kubeletServingUsages) && !sameSet(usages, kubeletServingUsagesNoRSA))
    return `usages did not match ${goList(kubeletServingUsages)}`;
  if (!req.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** upstream isKubeAPIServerClient: any subject, usages within the client set and including client auth. */
export function kubeAPIServerClientError(usages: readonly string[]): string | undefined {
  for (const u of usages)
    if (!kubeAPIServerClientUsages.includes(u)) return `invalid usage for client certificate: ${u}`;
  if (!usages.includes('client auth')) return 'missing required usage for client certificate: client auth';
  return undefined;
}

/** The signers hubspoke signs for, each with its subject and usage rules. */
export const signerRules: Readonly<Record<string, (req: CSRInfo, usages: readonly string[]) => string | undefined>> = {
  [kubeletClientSigner]: kubeletClientError,
  [kubeletServingSigner]: kubeletServingError,
  [kubeAPIServerClientSigner]: (_req, usages) => kubeAPIServerClientError(usages),
};
