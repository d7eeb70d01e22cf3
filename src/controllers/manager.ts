// The controller manager: starts every controller, each as its own client of the API server over HTTPS with a
// client certificate issued here from the cluster CA for upstream's per-controller identity
// (`system:serviceaccount:kube-system:<name>` in system:serviceaccounts and system:serviceaccounts:kube-system,
// what kube-controller-manager --use-service-account-credentials gives them), so the bootstrap RBAC bindings
// `system:controller:<name>` to those ServiceAccounts are all each controller is allowed.
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { firstServiceIP, issueCertificate, type CertKeyPair } from '../pki/index.js';
import { runCSRApprover } from './csr-approver.js';
import { defaultClusterSigningDurationMs, runCSRSigner } from './csr-signer.js';
import { runKubernetesServiceController, type APIServerEndpoint } from './kubernetes-service.js';
import { runNamespaceController } from './namespace.js';
import { runNodeLifecycleController } from './node-lifecycle.js';
import { runEndpointsController } from './endpoints.js';
import { runEndpointSliceController } from './endpointslice.js';
import { runScheduler } from './scheduler.js';
import { runTaintEvictionController } from './taint-eviction.js';
import type { ControllerManagerOptions } from './options.js';
import { runRootCAPublisher } from './root-ca-publisher.js';
import { runServiceAccountController } from './serviceaccounts.js';
import { runTokenCleaner } from './token-cleaner.js';

/** The kube-system ServiceAccount each controller authenticates as (upstream's names where upstream has one). */
export const controllerServiceAccounts = {
  namespace: 'namespace-controller',
  serviceAccount: 'service-account-controller',
  rootCAPublisher: 'root-ca-cert-publisher',
  tokenCleaner: 'token-cleaner',
  // csrapproving and csrsigning share one identity, as upstream.
  csrApprover: 'certificate-controller',
  csrSigner: 'certificate-controller',
  // Upstream runs this inside kube-apiserver as system:apiserver (a system:masters member); hubspoke's own name.
  kubernetesService: 'kubernetes-service-controller',
  nodeLifecycle: 'node-controller',
  endpoints: 'endpoint-controller',
  endpointSlice: 'endpointslice-controller',
} as const;

/** The scheduler is its own component upstream, with its own user (bound to system:kube-scheduler). */
export const schedulerUser = 'system:kube-scheduler';

export interface ControllersConfig {
  /** The API server's URL. */
  server: string;
  /** The cluster CA: clients verify the server with it, and the controllers' certificates are issued from it. */
  ca: CertKeyPair;
  options: ControllerManagerOptions;
  serviceClusterIPRange: string;
  /** This API server, for the `kubernetes` Endpoints until API-server leases exist. */
  local: APIServerEndpoint;
  log: Logger;
}

export interface RunningControllers {
  /** Stops every controller and closes their connections. */
  stop(): void;
}

const certificateValidityMs = 365 * 24 * 3600 * 1000;

export async function startControllers(cfg: ControllersConfig): Promise<RunningControllers> {
  const o = cfg.options;
  const signingCA: CertKeyPair = o.clusterSigningCertFile
    ? {
        cert: await readFile(o.clusterSigningCertFile, 'utf8'),
        key: await readFile(o.clusterSigningKeyFile ?? '', 'utf8'),
      }
    : cfg.ca;
  const rootCA = o.rootCAFile ? await readFile(o.rootCAFile, 'utf8') : cfg.ca.cert;

  const stop = new AbortController();
  // Every informer's open watch and every work queue listen on it: dozens, not a leak.
  setMaxListeners(0, stop.signal);
  const clients = new Map<string, KubeClient>();
  const clientForUser = async (user: string, groups: string[], agent: string): Promise<KubeClient> => {
    const existing = clients.get(user);
    if (existing) return existing;
    const { cert, key } = await issueCertificate({
      ca: cfg.ca,
      commonName: user,
      organizations: groups,
      usages: ['client'],
      validityMs: certificateValidityMs,
    });
    const client = new KubeClient({
      server: cfg.server,
      caPem: cfg.ca.cert,
      certPem: cert,
      keyPem: key,
      userAgent: agent,
    });
    clients.set(user, client);
    return client;
  };
  const clientFor = (serviceAccount: string): Promise<KubeClient> =>
    clientForUser(
      `system:serviceaccount:kube-system:${serviceAccount}`,
      ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
      `hubspoke-controller-manager/${serviceAccount}`
    );
  const sa = controllerServiceAccounts;
  const logFor = (component: string): Logger => cfg.log.child({ component });
  const runs: [string, KubeClient, (client: KubeClient, log: Logger) => Promise<void>][] = [
    ['namespace-controller', await clientFor(sa.namespace), (c, l) => runNamespaceController(c, l, stop.signal)],
    [
      'serviceaccount-controller',
      await clientFor(sa.serviceAccount),
      (c, l) => runServiceAccountController(c, l, stop.signal),
    ],
    [
      'root-ca-cert-publisher',
      await clientFor(sa.rootCAPublisher),
      (c, l) => runRootCAPublisher(c, l, stop.signal, rootCA),
    ],
    ['tokencleaner', await clientFor(sa.tokenCleaner), (c, l) => runTokenCleaner(c, l, stop.signal)],
    ['csrapproving', await clientFor(sa.csrApprover), (c, l) => runCSRApprover(c, l, stop.signal)],
    [
      'csrsigning',
      await clientFor(sa.csrSigner),
      (c, l) =>
        runCSRSigner(c, l, stop.signal, {
          ca: signingCA,
          maxDurationMs: o.clusterSigningDurationMs ?? defaultClusterSigningDurationMs,
        }),
    ],
    [
      'kubernetes-service-controller',
      await clientFor(sa.kubernetesService),
      (c, l) =>
        runKubernetesServiceController(c, l, stop.signal, {
          clusterIP: firstServiceIP(cfg.serviceClusterIPRange),
          local: cfg.local,
        }),
    ],
    [
      'nodelifecycle',
      await clientFor(sa.nodeLifecycle),
      (c, l) => runNodeLifecycleController(c, l, stop.signal, o.nodeLifecycle),
    ],
    // Upstream's taint-eviction-controller acts with the node controller's identity and role.
    [
      'taint-eviction-controller',
      await clientFor(sa.nodeLifecycle),
      (c, l) => runTaintEvictionController(c, l, stop.signal),
    ],
    ['endpoint', await clientFor(sa.endpoints), (c, l) => runEndpointsController(c, l, stop.signal)],
    ['endpointslice', await clientFor(sa.endpointSlice), (c, l) => runEndpointSliceController(c, l, stop.signal)],
    [
      'scheduler',
      await clientForUser(schedulerUser, [], 'hubspoke-scheduler'),
      (c, l) => runScheduler(c, l, stop.signal, o.scheduler),
    ],
  ];
  for (const [name, client, run] of runs) {
    const log = logFor(name);
    run(client, log).catch((err: unknown) => log.error({ err }, 'controller stopped'));
  }
  return {
    stop() {
      stop.abort();
      for (const c of clients.values()) c.close();
    },
  };
}
