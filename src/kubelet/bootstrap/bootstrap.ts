// Kubelet TLS bootstrapping (upstream pkg/kubelet/certificate/bootstrap.LoadClientCert): if the kubeconfig's client
// certificate is still valid nothing happens; otherwise the bootstrap kubeconfig's credentials (a bootstrap token)
// ask for a `system:node:<name>` client certificate for a key made here, which never leaves the node; it is stored
// as `<cert-dir>/kubelet-client-current.pem` and the kubeconfig is written to point at it.
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { StatusError } from '../../api/errors.js';
import { KubeClient } from '../../lib/kube-client.js';
import { loadKubeconfig } from '../../lib/kubeconfig.js';
import type { Logger } from '../../lib/log.js';
import { createCSR, generatePrivateKey, writeKeyFile } from '../../pki/index.js';
import { bootstrapCSRName, kubeletClientSigner, kubeletUsages, requestCertificate } from './csr.js';
import { CertificateStore, parsePair } from './store.js';

export const nodeOrganization = 'system:nodes';
export const nodeUser = (nodeName: string): string => `system:node:${nodeName}`;
export const clientStore = (certDir: string): CertificateStore => new CertificateStore(certDir, 'kubelet-client');
export const servingStore = (certDir: string): CertificateStore => new CertificateStore(certDir, 'kubelet-server');

/** The bootstrap kubeconfig kubeadm writes (`bootstrap-kubelet.conf`): the pinned CA and the token. */
export function bootstrapKubeconfig(server: string, caPem: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'tls-bootstrap-token-user', user: { token } }],
    contexts: [
      {
        name: 'tls-bootstrap-token-user@kubernetes',
        context: { cluster: 'default-cluster', user: 'tls-bootstrap-token-user' },
      },
    ],
    'current-context': 'tls-bootstrap-token-user@kubernetes',
  });
}

/** The kubelet's kubeconfig after bootstrap: certificate and key both read from the `-current.pem` link. */
export function kubeletKubeconfig(server: string, caPem: string, currentPem: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'default-auth', user: { 'client-certificate': currentPem, 'client-key': currentPem } }],
    contexts: [
      { name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } },
    ],
    'current-context': 'default-context',
  });
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Why the kubeconfig's client certificate cannot be used (missing, unreadable, expired), or undefined if it can. */
export async function clientCertificateProblem(kubeconfigPath: string, now = Date.now()): Promise<string | undefined> {
  try {
    await stat(kubeconfigPath);
  } catch {
    return `${kubeconfigPath} does not exist`;
  }
  try {
    const c = await loadKubeconfig(kubeconfigPath);
    if (!c.certPem || !c.keyPem) return `${kubeconfigPath} has no client certificate`;
    const { info } = parsePair(c.certPem + c.keyPem, kubeconfigPath);
    if (info.notAfter.getTime() <= now)
      return `the client certificate in ${kubeconfigPath} expired at ${info.notAfter.toISOString()}`;
    if (info.notBefore.getTime() > now)
      return `the client certificate in ${kubeconfigPath} is not valid before ${info.notBefore.toISOString()}`;
    return undefined;
  } catch (err) {
    return `${kubeconfigPath}: ${(err as Error).message}`;
  }
}

export interface LoadClientCertOptions {
  kubeconfigPath: string;
  /** Where the bootstrap credentials are; without it an unusable certificate is an error. */
  bootstrapKubeconfigPath?: string;
  certDir: string;
  nodeName: string;
  log: Logger;
  /** Called about once a second while the CSR waits for approval. */
  onWait?: (elapsedMs: number) => void;
  /** @default 1 hour, as upstream */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What bootstrap did: nothing (the certificate was good) or a new certificate. */
export type LoadClientCertResult = { bootstrapped: false } | { bootstrapped: true; csrName: string; reason: string };

/**
 * Makes sure the kubeconfig holds a usable client certificate, bootstrapping one if needed.
 *
 * @throws Error saying what to do when the certificate is unusable and there are no bootstrap credentials, or the
 *   server refuses them.
 */
export async function loadClientCert(o: LoadClientCertOptions): Promise<LoadClientCertResult> {
  const problem = await clientCertificateProblem(o.kubeconfigPath);
  if (!problem) return { bootstrapped: false };
  if (!o.bootstrapKubeconfigPath || !(await exists(o.bootstrapKubeconfigPath)))
    throw new Error(
      `${problem}, and there is no bootstrap kubeconfig to get a new one with: the node must join again — on the ` +
        'control plane run `hubspoke token create`, then run the `hubspoke agent …` command it prints on this node'
    );
  o.log.info({ why: problem, bootstrapKubeconfig: o.bootstrapKubeconfigPath }, 'bootstrapping a client certificate');
  const bootstrap = await loadKubeconfig(o.bootstrapKubeconfigPath);
  const client = new KubeClient({ ...bootstrap, userAgent: `kubelet/v1.33.0-hubspoke (${o.nodeName}) bootstrap` });
  try {
    // The key waits in a temporary file, so a kubelet restarted mid-wait asks again for the same key, under the
    // same CSR name.
    await mkdir(o.certDir, { recursive: true, mode: 0o700 });
    const tmpKey = join(o.certDir, 'kubelet-client.key.tmp');
    let key = await readFile(tmpKey, 'utf8').catch(() => undefined);
    if (!key) {
      key = await generatePrivateKey('ECDSA-P256');
      await writeKeyFile(tmpKey, key);
    }
    const subject = { commonName: nodeUser(o.nodeName), organizations: [nodeOrganization] };
    const usages = kubeletUsages(key, 'client auth');
    const { csr } = await createCSR({ ...subject, key });
    const csrName = bootstrapCSRName(key, subject.commonName, subject.organizations, usages);
    let certPem: string;
    try {
      certPem = await requestCertificate(client, {
        csrPem: csr,
        name: csrName,
        signerName: kubeletClientSigner,
        usages,
        timeoutMs: o.timeoutMs ?? 3600_000,
        signal: o.signal,
        onWait: o.onWait,
      });
    } catch (err) {
      if (err instanceof StatusError && err.code === 401)
        throw new Error(
          `the API server rejected the bootstrap token in ${o.bootstrapKubeconfigPath} (it expired or was deleted): ` +
            'on the control plane run `hubspoke token create`, then `hubspoke agent … --token <new token>` here'
        );
      throw err;
    }
    const store = clientStore(o.certDir);
    await store.update(certPem, key);
    await rm(tmpKey, { force: true });
    await writeKeyFile(o.kubeconfigPath, kubeletKubeconfig(bootstrap.server, bootstrap.caPem, store.currentPath));
    return { bootstrapped: true, csrName, reason: problem };
  } finally {
    client.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
