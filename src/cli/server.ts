// `hubspoke server`: the control plane (API server + controllers). `hubspoke apiserver`: the API server alone.
import { newLogger } from '../lib/log.js';
import type { ApiServerOptions } from '../apiserver/options.js';
import { durationFlag, intFlag, parseFlags, UsageError } from './flags.js';
import { startControlPlane, waitForSignal } from './control-plane.js';

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
  'service-cluster-ip-range': {
    type: 'string',
    help: 'A CIDR notation IP range from which to assign service cluster IPs.',
    default: '10.96.0.0/16',
  },
  'data-dir': { type: 'string', help: 'Directory for the embedded database, certificates and kubeconfigs.' },
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
} as const;

export function apiServerOptionsFromFlags(
  f: Record<keyof typeof serverFlags, string | undefined>,
  dataDir: string
): ApiServerOptions {
  const errs: string[] = [];
  const o: ApiServerOptions = {
    securePort: intFlag('secure-port', f['secure-port'], errs),
    bindAddress: f['bind-address'],
    advertiseAddress: f['advertise-address'],
    tlsCertFile: f['tls-cert-file'],
    tlsPrivateKeyFile: f['tls-private-key-file'],
    clientCAFile: f['client-ca-file'],
    serviceClusterIPRange: f['service-cluster-ip-range'],
    dataDir,
    requestTimeoutMs: durationFlag('request-timeout', f['request-timeout'], errs),
    maxRequestsInflight: intFlag('max-requests-inflight', f['max-requests-inflight'], errs),
    maxMutatingRequestsInflight: intFlag('max-mutating-requests-inflight', f['max-mutating-requests-inflight'], errs),
    compactionIntervalMs:
      f['etcd-compaction-interval'] === '0'
        ? 0
        : durationFlag('etcd-compaction-interval', f['etcd-compaction-interval'], errs),
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
  const cp = await startControlPlane(apiServerOptionsFromFlags(f, f['data-dir']), log, opts.controllers);
  log.info({ url: cp.server.address, kubeconfig: cp.kubeconfigPath }, 'control plane ready');
  const sig = await waitForSignal();
  log.info({ signal: sig }, 'shutting down');
  await cp.close();
}
