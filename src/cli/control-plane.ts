// Starts the control plane in this process: storage, the API server, and the controllers, which reach the
// API server over HTTPS with their own certificate like any other client (the seeds: control-plane components
// talk to the API server on the secure port). Shared by `hubspoke server` and `hubspoke up`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiServer } from '../apiserver/server.js';
import { completeApiServerOptions, validateApiServerOptions, type ApiServerOptions } from '../apiserver/options.js';
import { runNamespaceController } from '../controllers/namespace.js';
import { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { issueCertificate, kubeconfig, writeKeyFile } from '../pki/index.js';
import { openStore } from '../storage/index.js';
import { UsageError } from './flags.js';

export interface ControlPlane {
  server: ApiServer;
  kubeconfigPath: string;
  close(): Promise<void>;
}

const controllerCertValidityMs = 365 * 24 * 3600 * 1000;

export async function startControlPlane(
  opts: ApiServerOptions,
  log: Logger,
  withControllers: boolean
): Promise<ControlPlane> {
  const completed = completeApiServerOptions(opts);
  const errs = validateApiServerOptions(completed);
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const store = await openStore(completed.dataDir);
  let server: ApiServer;
  try {
    server = await ApiServer.start(completed, { store, log: log.child({ component: 'apiserver' }) });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { ca, admin } = server.pki;
  const kubeconfigPath = join(completed.dataDir, 'admin.kubeconfig');
  await writeKeyFile(
    kubeconfigPath,
    kubeconfig({ server: server.address, caPem: ca.cert, clientCertPem: admin.cert, clientKeyPem: admin.key })
  );

  const stop = new AbortController();
  const clients: KubeClient[] = [];
  if (withControllers) {
    const cm = await issueCertificate({
      ca,
      commonName: 'system:kube-controller-manager',
      usages: ['client'],
      validityMs: controllerCertValidityMs,
    });
    await writeFile(join(completed.pkiDir, 'controller-manager.crt'), cm.cert, { mode: 0o644 });
    await writeKeyFile(join(completed.pkiDir, 'controller-manager.key'), cm.key);
    const client = new KubeClient({
      server: server.address,
      caPem: ca.cert,
      certPem: cm.cert,
      keyPem: cm.key,
      userAgent: 'hubspoke-controller-manager',
    });
    clients.push(client);
    void runNamespaceController(client, log.child({ component: 'namespace-controller' }), stop.signal);
  }
  return {
    server,
    kubeconfigPath,
    async close() {
      stop.abort();
      for (const c of clients) c.close();
      await server.close();
      await store.close();
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM; a second one is left to Node's default (exit). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}
