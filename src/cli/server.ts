// `hubspoke server`: the control plane (API server + controllers). `hubspoke apiserver`: the API server alone.
import { newLogger } from '../lib/log.js';
import { defaultAdmissionPlugins } from '../apiserver/admission/index.js';
import type { ApiServerOptions } from '../apiserver/options.js';
import { defaultTLSCipherSuites } from '../apiserver/tls-ciphers.js';
import type { ControllerManagerOptions } from '../controllers/options.js';
import { boolFlag, durationFlag, intFlag, parseFlags, UsageError, type FlagValues } from './flags.js';
import { startControlPlane, waitForSignal } from './control-plane.js';
import { readEgressSelectorConfiguration } from '../apiserver/egress/config.js';
import { egressDialers } from '../apiserver/egress/protocols.js';
import type { ApiServerDeps } from '../apiserver/server.js';
import type { Logger } from '../lib/log.js';
import {
  defaultAgentPort,
  inProcessClusterDialer,
  startKonnectivityServer,
  type KonnectivityServerHandle,
} from './konnectivity.js';

/** A comma-separated list flag (pflag's StringSlice): `Node,RBAC` → ['Node', 'RBAC']. */
const msToSeconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : Math.floor(ms / 1000);
const listFlag = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

export const serverFlags = {
  'secure-port': {
    type: 'string',
    help: 'The port on which to serve HTTPS with authentication and authorization.',
    default: '6443',
  },
  'bind-address': {
    type: 'string',
    help: 'The IP address on which to listen for the --secure-port port.',
    default: '0.0.0.0',
  },
  'advertise-address': {
    type: 'string',
    help: 'The IP address on which to advertise the apiserver to members of the cluster.',
  },
  'tls-cert-file': {
    type: 'string',
    help: 'File containing the default x509 certificate for HTTPS (generated under --data-dir/pki when absent).',
  },
  'tls-private-key-file': {
    type: 'string',
    help: 'File containing the default x509 private key matching --tls-cert-file.',
  },
  'client-ca-file': { type: 'string', help: 'CA bundle that verifies client certificates (default: the cluster CA).' },
  'tls-cipher-suites': {
    type: 'string',
    help: 'Comma-separated list of cipher suites for the server (Go names); TLS 1.3 suites are always on.',
    default: defaultTLSCipherSuites.join(','),
  },
  'anonymous-auth': {
    type: 'string',
    help: 'Enables anonymous requests (user system:anonymous, group system:unauthenticated), subject to authorization.',
    default: 'false',
  },
  'token-auth-file': {
    type: 'string',
    help: 'If set, the file that will be used to secure the secure port of the API server via token authentication (CSV: token,user,uid,"group1,group2").',
  },
  'enable-bootstrap-token-auth': {
    type: 'string',
    help: "Enable to allow secrets of type 'bootstrap.kubernetes.io/token' in the 'kube-system' namespace to be used for TLS bootstrapping authentication.",
    default: 'true',
  },
  'service-account-issuer': {
    type: 'string',
    multiple: true,
    help: 'Identifier of the service account token issuer (repeatable; the first issues, all are accepted). Default https://kubernetes.default.svc.cluster.local.',
  },
  'api-audiences': {
    type: 'string',
    help: 'Comma-separated identifiers of the API; service account tokens must be meant for one of them. Default: the issuers.',
  },
  'service-account-key-file': {
    type: 'string',
    multiple: true,
    help: 'File containing PEM-encoded public (or private) keys, or certificates, that verify service account tokens (repeatable).',
  },
  'service-account-signing-key-file': {
    type: 'string',
    help: 'Path to the private key that signs service account tokens (default: <data-dir>/pki/sa.key, generated).',
  },
  'service-account-max-token-expiration': {
    type: 'string',
    help: 'The maximum validity duration of a token created by the service account token issuer; 0 for none.',
    default: '0',
  },
  'service-account-extend-token-expiration': {
    type: 'string',
    help: 'Extends pod-bound tokens requested for 3607s to a year (with a warnafter claim) so that old clients keep working.',
    default: 'true',
  },
  'service-account-jwks-uri': {
    type: 'string',
    help: 'Overrides the URI for the JSON Web Key Set in the discovery doc served at /.well-known/openid-configuration.',
  },
  'service-cluster-ip-range': {
    type: 'string',
    help: 'A CIDR notation IP range from which to assign service cluster IPs.',
    default: '10.96.0.0/16',
  },
  'data-dir': { type: 'string', help: 'Directory for the embedded database, certificates and kubeconfigs.' },
  'kubelet-client-certificate': { type: 'string', help: 'Path to a client cert file for TLS to kubelets.' },
  'kubelet-client-key': { type: 'string', help: 'Path to a client key file for TLS to kubelets.' },
  'kubelet-certificate-authority': {
    type: 'string',
    help: "Path to a cert file for the certificate authority kubelets' serving certificates must chain to (default: the cluster CA).",
  },
  'kubelet-insecure-skip-tls-verify': {
    type: 'string',
    help: "Do not verify kubelets' serving certificates. Insecure: the connection to the kubelet can be intercepted.",
    default: 'false',
  },
  'kubelet-preferred-address-types': {
    type: 'string',
    help: 'List of the preferred NodeAddressTypes to use for kubelet connections.',
    default: 'InternalIP,ExternalIP,Hostname',
  },
  'kubelet-timeout': { type: 'string', help: 'Timeout for dialling kubelets, pods and services.', default: '5s' },
  'proxy-ca-file': {
    type: 'string',
    help: 'CA that https: pods/services proxy backends must chain to (default: the cluster CA).',
  },
  'ssh-user': {
    type: 'string',
    help: 'If non-empty, use secure SSH proxy to the nodes, using this user name. Deprecated: use Konnectivity (--egress-selector-config-file).',
  },
  'ssh-keyfile': {
    type: 'string',
    help: 'If non-empty, use secure SSH proxy to the nodes, using this user keyfile. Deprecated: use Konnectivity.',
  },
  'ssh-port': {
    type: 'string',
    help: "The nodes' SSH port, for nodes that do not publish hubspoke.io/ssh-port.",
    default: '22',
  },
  'ssh-known-hosts': {
    type: 'string',
    help: "An OpenSSH known_hosts file pinning the nodes' SSH host keys (otherwise each node's hubspoke.io/ssh-host-key).",
  },
  'request-timeout': {
    type: 'string',
    help: 'Duration a handler must keep a request open before timing it out.',
    default: '60s',
  },
  'max-requests-inflight': {
    type: 'string',
    help: 'Maximum number of non-mutating requests in flight at a given time.',
    default: '400',
  },
  'max-mutating-requests-inflight': {
    type: 'string',
    help: 'Maximum number of mutating requests in flight at a given time.',
    default: '200',
  },
  'etcd-compaction-interval': {
    type: 'string',
    help: 'The interval of compaction requests; 0 disables.',
    default: '5m',
  },
  'authorization-mode': {
    type: 'string',
    help: 'Ordered list of plug-ins to do authorization on secure port: AlwaysAllow, AlwaysDeny, Node, RBAC.',
    default: 'Node,RBAC',
  },
  'enable-admission-plugins': {
    type: 'string',
    help: `Admission plugins to enable in addition to the default ones (${defaultAdmissionPlugins.join(', ')}).`,
  },
  'disable-admission-plugins': {
    type: 'string',
    help: 'Admission plugins to disable although they are on by default.',
  },
  'etcd-servers': {
    type: 'string',
    help: 'List of etcd servers to connect with (scheme://ip:port), comma separated. Without it, the embedded SQLite database in --data-dir is used.',
  },
  'etcd-cafile': { type: 'string', help: 'SSL Certificate Authority file used to secure etcd communication.' },
  'etcd-certfile': { type: 'string', help: 'SSL certification file used to secure etcd communication.' },
  'etcd-keyfile': { type: 'string', help: 'SSL key file used to secure etcd communication.' },
  'etcd-prefix': {
    type: 'string',
    help: 'The prefix to prepend to all resource paths in etcd.',
    default: '/registry',
  },
  'cluster-signing-cert-file': {
    type: 'string',
    help: 'PEM-encoded X509 CA certificate the CSR signer issues cluster-scoped certificates with (default: the cluster CA).',
  },
  'cluster-signing-key-file': {
    type: 'string',
    help: 'PEM-encoded private key matching --cluster-signing-cert-file.',
  },
  'cluster-signing-duration': {
    type: 'string',
    help: 'The max length of duration signed certificates will be given; a CSR may ask for less (spec.expirationSeconds).',
    default: '8760h',
  },
  'root-ca-file': {
    type: 'string',
    help: 'The CA bundle published to every namespace as ConfigMap kube-root-ca.crt (default: the cluster CA).',
  },
  'leader-elect': {
    type: 'string',
    help: 'Run the controllers only while this server holds the kube-system/kube-controller-manager Lease (true or false).',
    default: 'true',
  },
  'leader-elect-lease-duration': {
    type: 'string',
    help: 'How long a standby waits after the last observed renewal before it takes the lead.',
    default: '15s',
  },
  'leader-elect-renew-deadline': {
    type: 'string',
    help: 'How long the leader keeps trying to renew before it stops leading.',
    default: '10s',
  },
  'leader-elect-retry-period': {
    type: 'string',
    help: 'The time between attempts to acquire or renew the lease.',
    default: '2s',
  },
  'identity-lease-duration-seconds': {
    type: 'string',
    help: "The duration of this API server's identity Lease in kube-system, in seconds.",
    default: '15',
  },
  'identity-lease-renew-interval-seconds': {
    type: 'string',
    help: "The interval of renewing this API server's identity Lease, in seconds.",
    default: '5',
  },
  'node-monitor-grace-period': {
    type: 'string',
    help: 'How long a node may go without renewing its Lease or posting status before it is marked Unknown.',
    default: '40s',
  },
  'node-startup-grace-period': {
    type: 'string',
    help: 'How long a node that has never posted a Ready condition may stay silent before it is marked Unknown.',
    default: '1m',
  },
  'node-monitor-period': {
    type: 'string',
    help: "The period of checking the nodes' health in the node-lifecycle controller.",
    default: '5s',
  },
  'egress-selector-config-file': {
    type: 'string',
    help: 'An EgressSelectorConfiguration (apiserver.k8s.io/v1beta1): how the API server reaches nodes (cluster), webhooks (controlplane), etcd. Default: cluster through the in-process konnectivity server.',
  },
  'konnectivity-server': {
    type: 'string',
    help: 'Run the konnectivity server in this process, nodes dialling in to it (true or false).',
    default: 'true',
  },
  'agent-port': {
    type: 'string',
    help: 'The port konnectivity agents connect to (TLS, on --bind-address; 0 picks a free one).',
    default: String(defaultAgentPort),
  },
  'default-watch-cache-size': {
    type: 'string',
    help: "Events each resource's watch cache keeps for watches that start in the past.",
    default: '1000',
  },
} as const;

export function apiServerOptionsFromFlags(f: FlagValues<typeof serverFlags>, dataDir: string): ApiServerOptions {
  const errs: string[] = [];
  const o: ApiServerOptions = {
    securePort: intFlag('secure-port', f['secure-port'], errs),
    bindAddress: f['bind-address'],
    advertiseAddress: f['advertise-address'],
    tlsCertFile: f['tls-cert-file'],
    tlsPrivateKeyFile: f['tls-private-key-file'],
    clientCAFile: f['client-ca-file'],
    tlsCipherSuites: listFlag(f['tls-cipher-suites']),
    serviceClusterIPRange: f['service-cluster-ip-range'],
    dataDir,
    anonymousAuth: boolFlag('anonymous-auth', f['anonymous-auth'], errs),
    tokenAuthFile: f['token-auth-file'],
    enableBootstrapTokenAuth: boolFlag('enable-bootstrap-token-auth', f['enable-bootstrap-token-auth'], errs),
    serviceAccountIssuers: f['service-account-issuer'],
    apiAudiences: listFlag(f['api-audiences']),
    serviceAccountKeyFiles: f['service-account-key-file'],
    serviceAccountSigningKeyFile: f['service-account-signing-key-file'],
    serviceAccountMaxTokenExpirationSeconds:
      f['service-account-max-token-expiration'] === '0'
        ? 0
        : msToSeconds(
            durationFlag('service-account-max-token-expiration', f['service-account-max-token-expiration'], errs)
          ),
    serviceAccountExtendTokenExpiration: boolFlag(
      'service-account-extend-token-expiration',
      f['service-account-extend-token-expiration'],
      errs
    ),
    serviceAccountJwksUri: f['service-account-jwks-uri'],
    requestTimeoutMs: durationFlag('request-timeout', f['request-timeout'], errs),
    kubeletClientCertificate: f['kubelet-client-certificate'],
    kubeletClientKey: f['kubelet-client-key'],
    kubeletCertificateAuthority: f['kubelet-certificate-authority'],
    kubeletInsecureSkipTLSVerify: boolFlag(
      'kubelet-insecure-skip-tls-verify',
      f['kubelet-insecure-skip-tls-verify'],
      errs
    ),
    kubeletPreferredAddressTypes: listFlag(f['kubelet-preferred-address-types']),
    kubeletTimeoutMs: durationFlag('kubelet-timeout', f['kubelet-timeout'], errs),
    proxyCAFile: f['proxy-ca-file'],
    sshUser: f['ssh-user'] || undefined,
    sshKeyfile: f['ssh-keyfile'] || undefined,
    sshPort: intFlag('ssh-port', f['ssh-port'], errs),
    sshKnownHosts: f['ssh-known-hosts'] || undefined,
    maxRequestsInflight: intFlag('max-requests-inflight', f['max-requests-inflight'], errs),
    maxMutatingRequestsInflight: intFlag('max-mutating-requests-inflight', f['max-mutating-requests-inflight'], errs),
    compactionIntervalMs:
      f['etcd-compaction-interval'] === '0'
        ? 0
        : durationFlag('etcd-compaction-interval', f['etcd-compaction-interval'], errs),
    authorizationMode: listFlag(f['authorization-mode']),
    enableAdmissionPlugins: listFlag(f['enable-admission-plugins']),
    disableAdmissionPlugins: listFlag(f['disable-admission-plugins']),
    etcdServers: listFlag(f['etcd-servers']),
    etcdCAFile: f['etcd-cafile'],
    etcdCertFile: f['etcd-certfile'],
    etcdKeyFile: f['etcd-keyfile'],
    etcdPrefix: f['etcd-prefix'],
    identityLeaseDurationMs: secondsFlag('identity-lease-duration-seconds', f['identity-lease-duration-seconds'], errs),
    identityLeaseRenewIntervalMs: secondsFlag(
      'identity-lease-renew-interval-seconds',
      f['identity-lease-renew-interval-seconds'],
      errs
    ),
    watchCacheSize: intFlag('default-watch-cache-size', f['default-watch-cache-size'], errs),
  };
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  return o;
}

function secondsFlag(name: string, v: string | undefined, errs: string[]): number | undefined {
  const n = intFlag(name, v, errs);
  return n === undefined ? undefined : n * 1000;
}

export function controllerOptionsFromFlags(f: FlagValues<typeof serverFlags>): ControllerManagerOptions {
  const errs: string[] = [];
  const o: ControllerManagerOptions = {
    clusterSigningCertFile: f['cluster-signing-cert-file'],
    clusterSigningKeyFile: f['cluster-signing-key-file'],
    clusterSigningDurationMs: durationFlag('cluster-signing-duration', f['cluster-signing-duration'], errs),
    rootCAFile: f['root-ca-file'],
    leaderElection: {
      leaderElect: f['leader-elect'] !== 'false',
      leaseDurationMs: durationFlag('leader-elect-lease-duration', f['leader-elect-lease-duration'], errs),
      renewDeadlineMs: durationFlag('leader-elect-renew-deadline', f['leader-elect-renew-deadline'], errs),
      retryPeriodMs: durationFlag('leader-elect-retry-period', f['leader-elect-retry-period'], errs),
    },
    nodeLifecycle: {
      nodeMonitorGracePeriodMs: durationFlag('node-monitor-grace-period', f['node-monitor-grace-period'], errs),
      nodeStartupGracePeriodMs: durationFlag('node-startup-grace-period', f['node-startup-grace-period'], errs),
      nodeMonitorPeriodMs: durationFlag('node-monitor-period', f['node-monitor-period'], errs),
    },
  };
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  return o;
}

export async function runServer(argv: string[], opts: { controllers: boolean } = { controllers: true }): Promise<void> {
  const f = parseFlags(
    argv,
    serverFlags,
    `hubspoke ${opts.controllers ? 'server' : 'apiserver'} --data-dir DIR [flags]`
  );
  if (!f['data-dir']) throw new UsageError('error: --data-dir is required');
  const log = newLogger();
  const errs: string[] = [];
  const withKonnectivity = boolFlag('konnectivity-server', f['konnectivity-server'], errs) !== false;
  const agentPort = intFlag('agent-port', f['agent-port'], errs) ?? defaultAgentPort;
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const dialers = await clusterEgress(f['egress-selector-config-file'], withKonnectivity, f['data-dir']);
  const cp = await startControlPlane(
    apiServerOptionsFromFlags(f, f['data-dir']),
    log,
    opts.controllers,
    controllerOptionsFromFlags(f),
    dialers
  );
  let konnectivity: KonnectivityServerHandle | undefined;
  try {
    if (withKonnectivity) konnectivity = await startKonnectivity(cp.server, f['bind-address']!, agentPort, log);
  } catch (err) {
    await cp.close();
    throw err;
  }
  log.info({ url: cp.server.address, kubeconfig: cp.kubeconfigPath }, 'control plane ready');
  const sig = await waitForSignal();
  log.info({ signal: sig }, 'shutting down');
  konnectivity?.close();
  await cp.close();
}

/** The egress dialers: the configuration file's, else `cluster` through the in-process konnectivity server. */
export async function clusterEgress(
  file: string | undefined,
  withKonnectivity: boolean,
  dataDir: string
): Promise<ApiServerDeps['egressDialers']> {
  if (file) {
    try {
      return await egressDialers(await readEgressSelectorConfiguration(file));
    } catch (err) {
      throw new UsageError(`error: --egress-selector-config-file: ${(err as Error).message}`);
    }
  }
  return withKonnectivity ? { cluster: inProcessClusterDialer(dataDir) } : {};
}

export function startKonnectivity(
  server: Parameters<typeof startKonnectivityServer>[0]['server'],
  bindAddress: string,
  agentPort: number,
  log: Logger
): Promise<KonnectivityServerHandle> {
  return startKonnectivityServer({
    server,
    bindAddress,
    agentPort,
    log: log.child({ component: 'konnectivity-server' }),
  });
}
