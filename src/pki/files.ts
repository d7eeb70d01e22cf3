import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { apiServerSANs, type APIServerSANsOptions } from './apiserver-sans.js';
import { createCA, type CertKeyPair } from './ca.js';
import {
  issueCertificate,
  keyMatchesCertificate,
  parseCertificate,
  verifyIssuedBy,
  type CertificateUsage,
} from './certificates.js';
import { canonicalIP } from './ip.js';
import type { KeyAlgorithm } from './keys.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Lifetime of the serving and admin certificates: one year, as kubeadm issues them. */
const LEAF_VALIDITY_MS = 365 * DAY_MS;
/** A leaf this close to expiry is reissued at start-up rather than left to lapse while the server runs. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

// Writes through a temporary file in the same directory and renames it over the target, so a reader never sees
// a half-written file and a crash leaves the old file intact. The temporary file is created with its final mode:
// a key is never readable by others, not even between create and chmod.
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  let renamed = false;
  try {
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
}

/**
 * Writes a private key (or anything secret, such as a kubeconfig with embedded credentials) atomically, with mode
 * 0600 from the moment the file exists. The process umask can only narrow that mode.
 */
export async function writeKeyFile(path: string, pem: string): Promise<void> {
  await writeFileAtomic(path, pem, 0o600);
}

/** Writes a certificate atomically with mode 0644: certificates are public. */
export async function writeCertFile(path: string, pem: string): Promise<void> {
  await writeFileAtomic(path, pem, 0o644);
}

/** A certificate and key on disk. */
export interface PKIFiles extends CertKeyPair {
  certPath: string;
  keyPath: string;
  /** Whether this call generated the pair (rather than loading it). */
  generated: boolean;
}

/** The control plane's certificates, as {@link ensureClusterPKI} leaves them. */
export interface ClusterPKI {
  /** `ca.crt`, `ca.key`: the cluster CA. */
  ca: PKIFiles;
  /** `apiserver.crt`, `apiserver.key`: the API server's serving certificate. */
  apiserver: PKIFiles;
  /** `admin.crt`, `admin.key`: a `system:masters` client certificate for the admin kubeconfig. */
  admin: PKIFiles;
}

/** Options for {@link ensureClusterPKI}. */
export interface ClusterPKIOptions extends APIServerSANsOptions {
  /** CN of the admin client certificate. @default 'kubernetes-admin' (kubeadm's) */
  adminUser?: string;
  /** Algorithm of any key generated. @default 'ECDSA-P256' */
  keyAlgorithm?: KeyAlgorithm;
}

interface LeafSpec {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  usages: CertificateUsage[];
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readPair(dir: string, name: string) {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const [cert, key] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  return { certPath, keyPath, cert, key };
}

async function writePair(files: { certPath: string; keyPath: string }, pair: CertKeyPair): Promise<PKIFiles> {
  // Key first: a crash in between leaves a key that matches no certificate, which the next start replaces.
  await writeKeyFile(files.keyPath, pair.key);
  await writeCertFile(files.certPath, pair.cert);
  return { ...files, ...pair, generated: true };
}

// The CA is never replaced behind the operator's back: nodes have pinned its key, and every issued certificate
// hangs off it. Anything wrong with an existing one is an error to resolve by hand.
async function ensureCA(dir: string, keyAlgorithm: KeyAlgorithm | undefined): Promise<PKIFiles> {
  const { cert, key, ...files } = await readPair(dir, 'ca');
  if (cert == null && key == null) return writePair(files, await createCA({ commonName: 'kubernetes', keyAlgorithm }));
  if (cert == null || key == null) {
    const [found, missing] = cert == null ? [files.keyPath, files.certPath] : [files.certPath, files.keyPath];
    throw new Error(`found ${found} but not ${missing}: restore it, or remove both to create a new cluster CA`);
  }
  const info = parseCertificate(cert);
  if (!info.isCA) throw new Error(`${files.certPath} is not a CA certificate`);
  if (info.notAfter.getTime() <= Date.now()) {
    throw new Error(`the cluster CA ${files.certPath} expired at ${info.notAfter.toISOString()}`);
  }
  if (!keyMatchesCertificate(key, cert)) throw new Error(`${files.keyPath} is not the key of ${files.certPath}`);
  return { ...files, cert, key, generated: false };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
};

function leafIsCurrent(pair: CertKeyPair, ca: CertKeyPair, want: LeafSpec): boolean {
  try {
    if (!keyMatchesCertificate(pair.key, pair.cert) || !verifyIssuedBy(pair.cert, ca.cert)) return false;
    const info = parseCertificate(pair.cert);
    const now = Date.now();
    return (
      info.notBefore.getTime() <= now &&
      info.notAfter.getTime() - now > RENEW_BEFORE_MS &&
      info.commonName === want.commonName &&
      sameSet(info.organizations, want.organizations) &&
      sameSet(info.dnsNames, want.dnsNames) &&
      sameSet(info.ipAddresses.map(canonicalIP), want.ipAddresses.map(canonicalIP)) &&
      sameSet(info.usages, want.usages)
    );
  } catch {
    return false; // an unreadable leaf is replaced, like an expired one
  }
}

async function ensureLeaf(
  dir: string,
  name: string,
  ca: CertKeyPair,
  want: LeafSpec,
  keyAlgorithm: KeyAlgorithm | undefined
): Promise<PKIFiles> {
  const { cert, key, ...files } = await readPair(dir, name);
  if (cert != null && key != null && leafIsCurrent({ cert, key }, ca, want)) {
    return { ...files, cert, key, generated: false };
  }
  return writePair(files, await issueCertificate({ ca, ...want, validityMs: LEAF_VALIDITY_MS, keyAlgorithm }));
}

/**
 * Creates the control plane's certificates in `dir`, or loads them when present and still good, as kubeadm's
 * `init phase certs` does:
 * - `ca.crt`/`ca.key`: loaded if present; an expired or mismatched CA is an error, never silently replaced.
 * - `apiserver.crt`/`apiserver.key`: CN `kube-apiserver`, serverAuth, SANs from {@link apiServerSANs};
 *   reissued when missing, unreadable, not issued by the CA, within 30 days of expiry, or when its SANs differ
 *   from the requested ones (a new host name, advertise address or service range).
 * - `admin.crt`/`admin.key`: CN `adminUser`, O `system:masters`, clientAuth; reissued on the same conditions.
 *
 * Keys are written 0600 and certificates 0644, each atomically.
 *
 * @throws Error for an invalid host name, advertise address or service range (before touching the disk), or a
 *   CA that cannot be used.
 */
export async function ensureClusterPKI(dir: string, options: ClusterPKIOptions): Promise<ClusterPKI> {
  const sans = apiServerSANs(options);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const ca = await ensureCA(dir, options.keyAlgorithm);
  const apiserver = await ensureLeaf(
    dir,
    'apiserver',
    ca,
    { commonName: 'kube-apiserver', organizations: [], ...sans, usages: ['server'] },
    options.keyAlgorithm
  );
  const admin = await ensureLeaf(
    dir,
    'admin',
    ca,
    {
      commonName: options.adminUser ?? 'kubernetes-admin',
      organizations: ['system:masters'],
      dnsNames: [],
      ipAddresses: [],
      usages: ['client'],
    },
    options.keyAlgorithm
  );
  return { ca, apiserver, admin };
}
