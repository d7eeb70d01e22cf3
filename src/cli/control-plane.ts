// Starts the control plane in this process: storage, the API server, and the controllers, which reach the
// API server over HTTPS with their own certificate like any other client (the seeds: control-plane components
// talk to the API server on the secure port). Shared by `hubspoke server` and `hubspoke up`.
import { join } from 'node:path';
import { ApiServer } from '../apiserver/server.js';
import { completeApiServerOptions, validateApiServerOptions, type ApiServerOptions } from '../apiserver/options.js';
import { startControllers, type RunningControllers } from '../controllers/manager.js';
import { validateControllerManagerOptions, type ControllerManagerOptions } from '../controllers/options.js';
import type { Logger } from '../lib/log.js';
import { kubeconfig, writeKeyFile } from '../pki/index.js';
import { openStore } from '../storage/index.js';
import { UsageError } from './flags.js';

export interface ControlPlane {
  server: ApiServer;
  kubeconfigPath: string;
  close(): Promise<void>;
}

export async function startControlPlane(
  opts: ApiServerOptions,
  log: Logger,
  withControllers: boolean,
  controllerOpts: ControllerManagerOptions = {}
): Promise<ControlPlane> {
  const completed = completeApiServerOptions(opts);
  const errs = [...validateApiServerOptions(completed), ...validateControllerManagerOptions(controllerOpts)];
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const store = await openStore(completed);
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

  let controllers: RunningControllers | undefined;
  if (withControllers)
    controllers = await startControllers({
      server: server.address,
      ca,
      options: controllerOpts,
      serviceClusterIPRange: completed.serviceClusterIPRange,
      local: { ip: completed.advertiseAddress, port: server.port },
      log,
    });
  return {
    server,
    kubeconfigPath,
    async close() {
      controllers?.stop();
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
