// Asking for a certificate through a CertificateSigningRequest and waiting for it (client-go's
// certificate/csr RequestCertificate + WaitForCertificate): list then watch the one CSR by
// `fieldSelector=metadata.name=<name>` until it is Approved and issued; a Denied or Failed condition, its
// deletion or a new UID ends the wait with an error.
import { createHash, createPublicKey } from 'node:crypto';
import { isAlreadyExists, StatusError } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import { parseCSR } from '../../pki/index.js';

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';

interface Condition {
  type: string;
  reason?: string;
  message?: string;
}
interface CSR {
  metadata: { name: string; uid?: string; resourceVersion?: string };
  spec: { request: string; signerName: string };
  status?: { conditions?: Condition[]; certificate?: string };
}

/** The usages the kubelet asks for: key encipherment only for RSA keys (RFC 5480 forbids it for EC). */
export function kubeletUsages(keyPem: string, ext: 'client auth' | 'server auth'): string[] {
  return createPublicKey(keyPem).asymmetricKeyType === 'rsa'
    ? ['digital signature', 'key encipherment', ext]
    : ['digital signature', ext];
}

/**
 * upstream's digestedName: `node-csr-` + base64url(SHA-512/256) over the base64url of the PKIX public key, the CN,
 * each O and each usage, each followed by `|`. The same key asks under the same name, so a kubelet restarted while
 * waiting finds its own CSR instead of making another.
 */
export function bootstrapCSRName(
  keyPem: string,
  commonName: string,
  organizations: string[],
  usages: string[]
): string {
  const hash = createHash('sha512-256');
  const write = (data: Buffer): void => void hash.update(data.toString('base64url')).update('|');
  write(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }));
  write(Buffer.from(commonName));
  for (const o of organizations) write(Buffer.from(o));
  for (const u of usages) write(Buffer.from(u));
  return `node-csr-${hash.digest().toString('base64url')}`;
}

export interface RequestCertificateOptions {
  csrPem: string;
  signerName: string;
  usages: string[];
  /** A fixed name (bootstrap), or else `generateName: csr-` (rotation). */
  name?: string;
  /** How long to wait for approval and issuance. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called about once a second while waiting, with the time waited so far. */
  onWait?: (elapsedMs: number) => void;
}

const publicKeyOf = async (csrPem: string): Promise<string> => (await parseCSR(csrPem)).publicKeyPem;

/** Creates the CSR (or adopts the one of the same name and key) and waits for its certificate, returned as PEM. */
export async function requestCertificate(client: KubeClient, o: RequestCertificateOptions): Promise<string> {
  const body = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: o.name ? { name: o.name } : { generateName: 'csr-' },
    spec: { request: Buffer.from(o.csrPem).toString('base64'), signerName: o.signerName, usages: o.usages },
  };
  let csr: CSR;
  try {
    csr = await client.request<CSR>('POST', csrPath, body);
  } catch (err) {
    if (!o.name || !isAlreadyExists(err)) throw err;
    csr = await client.get<CSR>(`${csrPath}/${encodeURIComponent(o.name)}`);
    const theirs = await publicKeyOf(Buffer.from(csr.spec.request, 'base64').toString('latin1'));
    if (csr.spec.signerName !== o.signerName || theirs !== (await publicKeyOf(o.csrPem)))
      throw new Error(`certificate signing request ${o.name} exists for another key or signer`);
  }
  return waitForCertificate(client, csr, o);
}

/** A CSR that will never be issued, or credentials the server refuses: waiting longer cannot help. */
class Final extends Error {}

/** Why a CSR can never be issued, or undefined while it still may be. */
function refusal(csr: CSR): string | undefined {
  const c = csr.status?.conditions ?? [];
  const denied = c.find((x) => x.type === 'Denied');
  if (denied)
    return `certificate signing request ${csr.metadata.name} is denied, reason: ${denied.reason ?? ''}, message: ${denied.message ?? ''}`;
  const failed = c.find((x) => x.type === 'Failed');
  if (failed)
    return `certificate signing request ${csr.metadata.name} failed, reason: ${failed.reason ?? ''}, message: ${failed.message ?? ''}`;
  return undefined;
}

const issued = (csr: CSR): string | undefined =>
  (csr.status?.conditions ?? []).some((x) => x.type === 'Approved') && csr.status?.certificate
    ? Buffer.from(csr.status.certificate, 'base64').toString('utf8')
    : undefined;

async function waitForCertificate(client: KubeClient, created: CSR, o: RequestCertificateOptions): Promise<string> {
  const name = created.metadata.name;
  const started = Date.now();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => stop.abort(), o.timeoutMs);
  const ticker = setInterval(() => o.onWait?.(Date.now() - started), 1000);
  const selector = `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const check = (csr: CSR | undefined): string | undefined => {
    if (!csr || csr.metadata.uid !== created.metadata.uid)
      throw new Final(`certificate signing request ${name} was deleted or replaced while waiting for it`);
    const why = refusal(csr);
    if (why) throw new Final(why);
    return issued(csr);
  };
  try {
    while (!stop.signal.aborted) {
      try {
        const list = await client.get<{ metadata: { resourceVersion: string }; items: CSR[] }>(
          `${csrPath}?${selector}`
        );
        const done = check(list.items[0]);
        if (done) return done;
        for await (const ev of client.watch<CSR>(
          `${csrPath}?${selector}&resourceVersion=${list.metadata.resourceVersion}`,
          stop.signal
        )) {
          if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') continue;
          const cert = check(ev.type === 'DELETED' ? undefined : ev.object);
          if (cert) return cert;
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        if (err instanceof Final || (err instanceof StatusError && (err.code === 401 || err.code === 403))) throw err;
        await new Promise((r) => setTimeout(r, 1000)); // the server restarted or the watch broke: list again
      }
    }
    if (o.signal?.aborted) throw new Error(`stopped waiting for certificate signing request ${name}`);
    throw new Error(
      `timed out after ${Math.round(o.timeoutMs / 1000)}s waiting for certificate signing request ${name} to be approved and issued`
    );
  } finally {
    clearTimeout(deadline);
    clearInterval(ticker);
    o.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
