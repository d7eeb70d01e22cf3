// The kubelet's certificates at start-up, in upstream's order: bootstrap the client certificate if the kubeconfig's
// is unusable, build the API client on it, keep it rotated (the client switches for new connections), start the
// kubelet, then — once the Node is registered with its addresses, which the serving-CSR approver checks the names
// against — get and keep a serving certificate.
import { mkdir } from 'node:fs/promises';
import { KubeClient } from '../../lib/kube-client.js';
import { loadKubeconfig } from '../../lib/kubeconfig.js';
import type { Logger } from '../../lib/log.js';
import { parseCertificate, type CertificateInfo } from '../../pki/index.js';
import { Kubelet } from '../kubelet.js';
import type { CompletedKubeletOptions } from '../options.js';
import {
  clientStore,
  loadClientCert,
  nodeOrganization,
  nodeUser,
  servingStore,
  type LoadClientCertResult,
} from './bootstrap.js';
import { kubeletClientSigner, kubeletServingSigner } from './csr.js';
import { CertificateManager } from './manager.js';

export interface TLSBootstrapOptions {
  /** `--bootstrap-kubeconfig`. */
  bootstrapKubeconfig?: string;
  /** `--cert-dir`: @default `<root-dir>/pki` */
  certDir: string;
  /** `--rotate-certificates` (rotateCertificates). */
  rotateCertificates: boolean;
  /** `--rotate-server-certificates` (serverTLSBootstrap). */
  serverTLSBootstrap: boolean;
  /** Progress while the bootstrap CSR waits. */
  onWait?: (elapsedMs: number) => void;
  /** Tests shorten rotation; see CertificateManagerOptions.rotationDeadline. */
  rotationDeadline?: (info: CertificateInfo) => Date;
}

export interface NodeAgent {
  kubelet: Kubelet;
  bootstrap: LoadClientCertResult;
  clientCertificate?: CertificateManager;
  servingCertificate?: CertificateManager;
  stop(): Promise<void>;
}

/**
 * Starts the kubelet with TLS bootstrapping and rotation.
 *
 * @throws Error saying what to do when there is no usable client certificate and no way to get one.
 */
export async function startKubeletWithBootstrap(
  o: CompletedKubeletOptions,
  t: TLSBootstrapOptions,
  log: Logger
): Promise<NodeAgent> {
  await mkdir(t.certDir, { recursive: true, mode: 0o700 });
  const bootstrap = await loadClientCert({
    kubeconfigPath: o.kubeconfig,
    bootstrapKubeconfigPath: t.bootstrapKubeconfig,
    certDir: t.certDir,
    nodeName: o.nodeName,
    log: log.child({ component: 'bootstrap' }),
    onWait: t.onWait,
  });
  const config = await loadKubeconfig(o.kubeconfig);
  const client = new KubeClient({ ...config, userAgent: `kubelet/v1.33.0-hubspoke (${o.nodeName})` });
  const subject = { commonName: nodeUser(o.nodeName), organizations: [nodeOrganization] };
  let clientCertificate: CertificateManager | undefined;
  if (t.rotateCertificates) {
    clientCertificate = new CertificateManager({
      store: clientStore(t.certDir),
      signerName: kubeletClientSigner,
      extUsage: 'client auth',
      template: () => subject,
      client: () => client,
      log: log.child({ component: 'certificate-manager', signer: 'client' }),
      rotationDeadline: t.rotationDeadline,
    });
    clientCertificate.onRotate((pair) => client.setClientCertificate(pair.certPem, pair.keyPem));
    // A kubeconfig with embedded credentials (not the cert-dir layout) starts the manager from those.
    await clientCertificate.start(
      config.certPem && config.keyPem
        ? { certPem: config.certPem, keyPem: config.keyPem, info: parseCertificate(config.certPem) }
        : undefined
    );
  }
  const servingCertificate = t.serverTLSBootstrap
    ? new CertificateManager({
        store: servingStore(t.certDir),
        signerName: kubeletServingSigner,
        extUsage: 'server auth',
        // upstream: DNS SANs from the Hostname address, IP SANs from the InternalIP.
        template: () => ({ ...subject, dnsNames: [o.hostname], ipAddresses: [o.nodeIP] }),
        client: () => client,
        log: log.child({ component: 'certificate-manager', signer: 'serving' }),
        rotationDeadline: t.rotationDeadline,
      })
    : undefined;
  let kubelet: Kubelet;
  try {
    kubelet = await Kubelet.start(o, log, { client, servingCertificate });
  } catch (err) {
    clientCertificate?.stop();
    client.close();
    throw err;
  }
  await servingCertificate?.start();
  return {
    kubelet,
    bootstrap,
    clientCertificate,
    servingCertificate,
    async stop() {
      clientCertificate?.stop();
      servingCertificate?.stop();
      await kubelet.stop();
    },
  };
}
