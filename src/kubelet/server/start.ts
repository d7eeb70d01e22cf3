// Starting the HTTPS server from the kubelet's options: the client CA (`authentication.x509.clientCAFile`, else
// the cluster CA of the kubeconfig) and the serving certificate, in upstream's order of preference:
// `--tls-cert-file`/`--tls-private-key-file`, else the rotating one from a kubelet-serving CSR (serverTLSBootstrap;
// handshakes fail until it is issued, as upstream's), else a self-signed one made at start.
import { readFile } from 'node:fs/promises';
import type { KubeClient } from '../../lib/kube-client.js';
import { loadKubeconfig } from '../../lib/kubeconfig.js';
import type { Logger } from '../../lib/log.js';
import { createCA, issueCertificate } from '../../pki/index.js';
import type { CompletedKubeletOptions } from '../options.js';
import { KubeletServer, type ServingCertificate } from './server.js';

/** The bootstrap's CertificateManager, as far as the server needs it. */
export interface ServingCertificateSource {
  current(): ServingCertificate | undefined;
  onRotate(fn: (pair: ServingCertificate) => void): void;
}

async function selfSigned(o: CompletedKubeletOptions): Promise<ServingCertificate> {
  const ca = await createCA({ commonName: `${o.nodeName}-ca@${Math.floor(Date.now() / 1000)}` });
  const leaf = await issueCertificate({
    ca,
    commonName: `${o.nodeName}@${Math.floor(Date.now() / 1000)}`,
    dnsNames: [o.hostname],
    ipAddresses: [o.nodeIP],
    usages: ['server'],
    validityMs: 365 * 24 * 3600_000,
  });
  return { certPem: `${leaf.cert.trimEnd()}\n${ca.cert}`, keyPem: leaf.key };
}

/** The server listens before the kubelet exists (the Node reports its port); set `server.host` once it does. */
export async function startKubeletServer(
  o: CompletedKubeletOptions,
  client: KubeClient,
  serving: ServingCertificateSource | undefined,
  log: Logger
): Promise<KubeletServer> {
  const s = o.server;
  const clientCAPem = s.clientCAFile
    ? await readFile(s.clientCAFile, 'utf8')
    : (await loadKubeconfig(o.kubeconfig)).caPem;
  let cert: ServingCertificate | undefined;
  if (s.tlsCertFile && s.tlsPrivateKeyFile)
    cert = { certPem: await readFile(s.tlsCertFile, 'utf8'), keyPem: await readFile(s.tlsPrivateKeyFile, 'utf8') };
  else if (!serving) {
    log.warn('no --tls-cert-file and no serving certificate rotation: serving a self-signed certificate');
    cert = await selfSigned(o);
  }
  const server = await KubeletServer.start(
    {
      ...s,
      nodeName: o.nodeName,
      port: o.port,
      clientCAPem,
    },
    client,
    log,
    cert
  );
  if (serving && !cert) {
    serving.onRotate((pair) => server.setSecureContext(pair));
    // A certificate loaded from the cert dir at start is not a rotation: look until the first one is there.
    const timer = setInterval(() => {
      const pair = serving.current();
      if (pair && !server.hasCertificate) server.setSecureContext(pair);
      if (server.hasCertificate) clearInterval(timer);
    }, 200);
    timer.unref();
  }
  return server;
}
