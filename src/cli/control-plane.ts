// Starts the control plane in this process: storage, the API server, and the controllers, which reach the
// API server over HTTPS with their own certificate like any other client (the seeds: control-plane components
// talk to the API server on the secure port). Shared by `hubspoke server` and `hubspoke up`.
import { join } from 'node:path';
import { ApiServer, type ApiServerDeps } from '../apiserver/server.js';
import { completeApiServerOptions, validateApiServerOptions, type ApiServerOptions } from '../apiserver/options.js';
import { LeaderElector } from '../controllers/leaderelection.js';
import { startControllers, type ControllersConfig, type RunningControllers } from '../controllers/manager.js';
import { validateControllerManagerOptions, type ControllerManagerOptions } from '../controllers/options.js';
import { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { issueCertificate, kubeconfig, writeKeyFile, type CertKeyPair } from '../pki/index.js';
import { openStore } from '../storage/index.js';
import { UsageError } from './flags.js';
import { ensureNodeIdentities } from './node-identities.js';

export interface ControlPlane {
  server: ApiServer;
  kubeconfigPath: string;
  close(): Promise<void>;
}

export async function startControlPlane(
  opts: ApiServerOptions,
  log: Logger,
  withControllers: boolean,
  controllerOpts: ControllerManagerOptions = {},
  egressDialers?: ApiServerDeps['egressDialers']
): Promise<ControlPlane> {
  const completed = completeApiServerOptions(opts);
  const errs = [...validateApiServerOptions(completed), ...validateControllerManagerOptions(controllerOpts)];
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const store = await openStore(completed);
  let server: ApiServer;
  try {
    server = await ApiServer.start(completed, { store, log: log.child({ component: 'apiserver' }), egressDialers });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { ca, admin } = server.pki;
  const setup = new KubeClient({ server: server.address, caPem: ca.cert, certPem: admin.cert, keyPem: admin.key });
  try {
    await ensureNodeIdentities(setup);
  } catch (err) {
    await server.close();
    await store.close();
    throw err;
  } finally {
    setup.close();
  }
  const kubeconfigPath = join(completed.dataDir, 'admin.kubeconfig');
  await writeKeyFile(
    kubeconfigPath,
    kubeconfig({ server: server.address, caPem: ca.cert, clientCertPem: admin.cert, clientKeyPem: admin.key })
  );

  let controllers: RunningControllers | undefined;
  const stopElection = new AbortController();
  let election: Promise<void> | undefined;
  let electionClient: KubeClient | undefined;
  if (withControllers) {
    const cfg: ControllersConfig = {
      server: server.address,
      ca,
      options: controllerOpts,
      serviceClusterIPRange: completed.serviceClusterIPRange,
      local: { ip: completed.advertiseAddress, port: server.port },
      log,
    };
    const le = controllerOpts.leaderElection ?? {};
    if (le.leaderElect === false) controllers = await startControllers(cfg);
    else {
      // Several servers on one store: only the holder of kube-system/kube-controller-manager runs controllers.
      electionClient = await controllerManagerClient(server.address, ca);
      const elector = new LeaderElector(
        electionClient,
        le,
        { onStartedLeading: (leading) => void runWhileLeading(cfg, leading) },
        log.child({ component: 'leader-election' })
      );
      log.info({ identity: elector.identity }, 'controllers wait for the kube-controller-manager lease');
      election = elector.run(stopElection.signal);
    }
  }
  return {
    server,
    kubeconfigPath,
    async close() {
      stopElection.abort();
      await election; // stops the controllers and hands the lease back
      electionClient?.close();
      controllers?.stop();
      await server.close();
      await store.close();
    },
  };
}

/** kube-controller-manager's own identity, which the bootstrap policy lets take part in its leader election. */
async function controllerManagerClient(server: string, ca: CertKeyPair): Promise<KubeClient> {
  const { cert, key } = await issueCertificate({
    ca,
    commonName: 'system:kube-controller-manager',
    usages: ['client'],
    validityMs: 365 * 24 * 3600 * 1000,
  });
  return new KubeClient({
    server,
    caPem: ca.cert,
    certPem: cert,
    keyPem: key,
    userAgent: 'hubspoke-controller-manager/leader-election',
  });
}

/** Starts the controllers for one term of leadership and stops them when it ends. */
async function runWhileLeading(cfg: ControllersConfig, leading: AbortSignal): Promise<void> {
  try {
    const running = await startControllers(cfg);
    if (leading.aborted) running.stop();
    else leading.addEventListener('abort', () => running.stop(), { once: true });
  } catch (err) {
    cfg.log.error({ err }, 'controllers failed to start');
  }
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
