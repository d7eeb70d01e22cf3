// `hubspoke kubelet`: the node agent alone, with upstream's flag names. Flags win over the --config file.
import { join } from 'node:path';
import { startKubeletWithBootstrap, type NodeAgent, type TLSBootstrapOptions } from '../kubelet/bootstrap/node.js';
import {
  completeKubeletOptions,
  parseLabels,
  validateKubeletOptions,
  type CompletedKubeletOptions,
  type KubeletConfiguration,
} from '../kubelet/options.js';
import { newLogger, type Logger } from '../lib/log.js';
import { waitForSignal } from './control-plane.js';
import { intFlag, parseFlags, UsageError } from './flags.js';

export const kubeletFlags = {
  kubeconfig: {
    type: 'string',
    help: 'Path to a kubeconfig file with the credentials (system:node:<name>) to reach the API server.',
  },
  config: { type: 'string', help: 'A KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override it.' },
  'hostname-override': { type: 'string', help: 'The node name to register instead of the host name.' },
  'node-ip': { type: 'string', help: "The node's IP address, reported as InternalIP and used as every pod's IP." },
  'ssh-host-key-file': {
    type: 'string',
    help: "This node's sshd host public key (e.g. /etc/ssh/ssh_host_ed25519_key.pub): its fingerprint is published so an API server using SSH tunnels can pin it.",
  },
  'ssh-port': { type: 'string', help: "This node's sshd port, published when the API server's --ssh-port is not it." },
  'root-dir': {
    type: 'string',
    help: 'Directory for the kubelet state: containers, pod volumes.',
    default: '/var/lib/kubelet',
  },
  'pod-logs-dir': { type: 'string', help: 'Directory for container logs (podLogsDir; default /var/log/pods).' },
  'node-labels': { type: 'string', help: 'Labels to add when registering the node: key=value,key2=value2.' },
  'register-node': { type: 'string', help: 'Register the node with the API server (true or false; default true).' },
  port: {
    type: 'string',
    help: 'The port of the kubelet HTTPS endpoint (reported in daemonEndpoints; default 10250).',
  },
  'max-pods': { type: 'string', help: 'Number of pods this kubelet can run (default 110).' },
  'container-log-max-size': { type: 'string', help: 'Rotate a container log at this size (default 10Mi).' },
  'container-log-max-files': { type: 'string', help: 'Log files kept per container, current included (default 5).' },
  'node-status-update-frequency': { type: 'string', help: 'How often the node status is checked (default 10s).' },
  address: { type: 'string', help: 'The IP address the HTTPS server listens on (default 0.0.0.0).' },
  'read-only-port': { type: 'string', help: 'The unauthenticated read-only port: only 0 (off) is accepted.' },
  'tls-cert-file': { type: 'string', help: 'The serving certificate (with intermediates); else the rotated one.' },
  'tls-private-key-file': { type: 'string', help: 'The key of --tls-cert-file.' },
  'tls-cipher-suites': { type: 'string', help: 'Comma-separated TLS 1.2 cipher suites (Go names; default all AEAD).' },
  'tls-min-version': { type: 'string', help: 'VersionTLS12 (default) or VersionTLS13.' },
  'client-ca-file': {
    type: 'string',
    help: 'Client certificates must chain to this CA bundle (default: the cluster CA of --kubeconfig).',
  },
  'anonymous-auth': { type: 'string', help: 'Serve unauthenticated requests as system:anonymous (default false).' },
  'authentication-token-webhook': {
    type: 'string',
    help: 'Authenticate bearer tokens through TokenReview (default true).',
  },
  'authentication-token-webhook-cache-ttl': { type: 'string', help: 'TokenReview cache TTL (default 2m).' },
  'authorization-mode': { type: 'string', help: 'Webhook (SubjectAccessReview; default) or AlwaysAllow.' },
  'authorization-webhook-cache-authorized-ttl': { type: 'string', help: 'Cache TTL of allowed reviews (default 5m).' },
  'authorization-webhook-cache-unauthorized-ttl': {
    type: 'string',
    help: 'Cache TTL of denied reviews (default 30s).',
  },
  'streaming-connection-idle-timeout': {
    type: 'string',
    help: 'Close exec/attach/port-forward streams idle this long (default 4h).',
  },
  'bootstrap-kubeconfig': {
    type: 'string',
    help: 'A kubeconfig (a bootstrap token) to get a client certificate with when --kubeconfig has no valid one.',
  },
  'cert-dir': {
    type: 'string',
    help: 'Directory of the kubelet-client-*.pem and kubelet-server-*.pem certificates (default <root-dir>/pki).',
  },
  'rotate-certificates': {
    type: 'string',
    help: 'Renew the client certificate through the API server before it expires (true or false; default true).',
  },
  'rotate-server-certificates': {
    type: 'string',
    help: 'Get and renew the serving certificate through a kubelet-serving CSR (true or false; default true).',
  },
} as const;

/** A true/false flag that is undefined when absent, so the config file's value stands. */
function optionalBool(name: string, v: string | undefined, errs: string[]): boolean | undefined {
  return v === undefined ? undefined : boolFlag(name, v, false, errs);
}

type KubeletFlagValues = { [K in keyof typeof kubeletFlags]: string | undefined };

function boolFlag(name: string, v: string | undefined, dflt: boolean, errs: string[]): boolean {
  if (v === undefined) return dflt;
  if (v !== 'true' && v !== 'false') errs.push(`--${name}: "${v}" is not true or false`);
  return v === 'true';
}

/**
 * The kubelet's options from its flags (shared with `hubspoke agent`); `errs` collects the caller's own problems too.
 *
 * @throws UsageError with every problem at once.
 */
export async function kubeletOptionsFromFlags(
  f: KubeletFlagValues,
  errs: string[] = []
): Promise<{ options: CompletedKubeletOptions; tls: TLSBootstrapOptions }> {
  const overrides: KubeletConfiguration = {
    podLogsDir: f['pod-logs-dir'],
    port: intFlag('port', f.port, errs),
    maxPods: intFlag('max-pods', f['max-pods'], errs),
    containerLogMaxSize: f['container-log-max-size'],
    containerLogMaxFiles: intFlag('container-log-max-files', f['container-log-max-files'], errs),
    nodeStatusUpdateFrequency: f['node-status-update-frequency'],
    address: f.address,
    readOnlyPort: intFlag('read-only-port', f['read-only-port'], errs),
    tlsCertFile: f['tls-cert-file'],
    tlsPrivateKeyFile: f['tls-private-key-file'],
    tlsCipherSuites: f['tls-cipher-suites']?.split(',').filter(Boolean),
    tlsMinVersion: f['tls-min-version'],
    streamingConnectionIdleTimeout: f['streaming-connection-idle-timeout'],
    authentication: {
      x509: { clientCAFile: f['client-ca-file'] },
      webhook: {
        enabled: optionalBool('authentication-token-webhook', f['authentication-token-webhook'], errs),
        cacheTTL: f['authentication-token-webhook-cache-ttl'],
      },
      anonymous: { enabled: optionalBool('anonymous-auth', f['anonymous-auth'], errs) },
    },
    authorization: {
      mode: f['authorization-mode'] as 'Webhook' | 'AlwaysAllow' | undefined,
      webhook: {
        cacheAuthorizedTTL: f['authorization-webhook-cache-authorized-ttl'],
        cacheUnauthorizedTTL: f['authorization-webhook-cache-unauthorized-ttl'],
      },
    },
  };
  if (f['register-node'] !== undefined) {
    if (f['register-node'] !== 'true' && f['register-node'] !== 'false')
      errs.push(`--register-node: "${f['register-node']}" is not true or false`);
    overrides.registerNode = f['register-node'] === 'true';
  }
  if (f['node-labels'] !== undefined) {
    const labels = parseLabels(f['node-labels']);
    if (labels instanceof Error) errs.push(`--node-labels: ${labels.message}`);
    else overrides.nodeLabels = labels;
  }
  const { options, errors } = await completeKubeletOptions({
    kubeconfig: f.kubeconfig,
    config: f.config,
    hostnameOverride: f['hostname-override'],
    nodeIP: f['node-ip'],
    rootDir: f['root-dir'],
    sshHostKeyFile: f['ssh-host-key-file'],
    sshPort: intFlag('ssh-port', f['ssh-port'], errs),
    overrides,
  });
  const tls: TLSBootstrapOptions = {
    bootstrapKubeconfig: f['bootstrap-kubeconfig'],
    certDir: f['cert-dir'] ?? join(options.rootDir, 'pki'),
    rotateCertificates: boolFlag('rotate-certificates', f['rotate-certificates'], true, errs),
    serverTLSBootstrap: boolFlag('rotate-server-certificates', f['rotate-server-certificates'], true, errs),
  };
  errs.push(...errors, ...validateKubeletOptions(options));
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  return { options, tls };
}

/** Runs the kubelet (bootstrapping its certificates if needed) until SIGINT/SIGTERM. */
/** `alongside` starts what runs next to the kubelet (the konnectivity agent) and returns how to stop it. */
export async function runNode(
  options: CompletedKubeletOptions,
  tls: TLSBootstrapOptions,
  alongside?: (node: NodeAgent, log: Logger) => Promise<() => Promise<void>>
): Promise<void> {
  const log = newLogger();
  const node = await startKubeletWithBootstrap(
    options,
    {
      ...tls,
      onWait: (ms) =>
        process.stderr.write(
          `waiting for the client certificate to be approved and issued… ${Math.round(ms / 1000)}s\n`
        ),
    },
    log.child({ component: 'kubelet' })
  );
  if (node.bootstrap.bootstrapped)
    log.info({ csr: node.bootstrap.csrName, kubeconfig: options.kubeconfig }, 'client certificate issued');
  const stopAlongside = await alongside?.(node, log);
  const sig = await waitForSignal();
  log.info({ signal: sig }, 'stopping the kubelet; its pods keep running');
  await stopAlongside?.();
  await node.stop();
}

export async function runKubelet(argv: string[]): Promise<void> {
  const f = parseFlags(argv, kubeletFlags, 'hubspoke kubelet --kubeconfig FILE [flags]');
  const { options, tls } = await kubeletOptionsFromFlags(f);
  await runNode(options, tls);
}
