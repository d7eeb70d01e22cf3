// `hubspoke agent`: join this machine to a cluster and run its kubelet (kubeadm join + the kubelet, in one). The
// command `hubspoke token create` prints is enough: the cluster CA is found and checked against the pin, the
// client certificate is bootstrapped with the token, and from then on the node uses (and rotates) its own
// certificates; a later start with a valid certificate needs no token. Beside the kubelet it runs the node's
// konnectivity agent and kube-proxy, each with its own identity (./node-identities.ts).
import { join } from 'node:path';
import { prepareJoin, validateJoinOptions } from '../kubelet/bootstrap/join.js';
import { newLogger } from '../lib/log.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { KubeClient } from '../lib/kube-client.js';
import { boolFlag, intFlag, parseFlags, UsageError } from './flags.js';
import { defaultAgentPort, startNodeTunnel } from './konnectivity.js';
import {
  chooseProxyMode,
  kubeProxyConfigFromFlags,
  kubeProxyFlags,
  kubeProxyUserAgent,
  startKubeProxy,
} from './kube-proxy.js';
import { kubeletFlags, kubeletOptionsFromFlags, runNode } from './kubelet.js';
import { kubeProxyServiceAccount, nodeBoundToken } from './node-identities.js';

const agentFlags = {
  server: { type: 'string', help: 'The API server to join, https://host:port.' },
  token: { type: 'string', help: 'The bootstrap token (<id>.<secret>) from `hubspoke token create`.' },
  'ca-cert-hash': {
    type: 'string',
    help: 'The pin of the cluster CA, sha256:<hex> of its public key; several may be given, comma-separated.',
  },
  'discovery-token-unsafe-skip-ca-verification': {
    type: 'boolean',
    help: 'Join without checking the cluster CA against a pin (anyone between this node and --server can impersonate it).',
  },
  ...kubeletFlags,
  kubeconfig: {
    type: 'string',
    help: "The kubelet's kubeconfig, written after bootstrap (default <root-dir>/kubelet.conf).",
  },
  konnectivity: {
    type: 'string',
    help: 'Run the konnectivity agent, dialling out to the control plane so the node needs no inbound port (true or false; default true).',
  },
  'kube-proxy': {
    type: 'string',
    help: "Run kube-proxy, which makes the Services' virtual IPs work on this node (true or false; default true).",
  },
  ...kubeProxyFlags,
  'proxy-server-host': {
    type: 'string',
    help: "The konnectivity server's host (default: the API server's host from the kubeconfig).",
  },
  'proxy-server-port': { type: 'string', help: "The konnectivity server's agent port (default 8132)." },
  'bootstrap-kubeconfig': {
    type: 'string',
    help: 'Where the bootstrap kubeconfig (the token and the verified CA) is written (default <root-dir>/bootstrap-kubelet.conf).',
  },
} as const;

export async function runAgent(argv: string[]): Promise<void> {
  const f = parseFlags(
    argv,
    agentFlags,
    'hubspoke agent --server URL --token ID.SECRET --ca-cert-hash sha256:… [--root-dir DIR] [kubelet flags]'
  );
  const rootDir = f['root-dir'] ?? '/var/lib/kubelet';
  const kubeconfig = f.kubeconfig ?? join(rootDir, 'kubelet.conf');
  const bootstrapKubeconfig = f['bootstrap-kubeconfig'] ?? join(rootDir, 'bootstrap-kubelet.conf');
  const joinOptions = {
    server: f.server,
    token: f.token,
    caCertHashes: (f['ca-cert-hash'] ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    unsafeSkipCAVerification: f['discovery-token-unsafe-skip-ca-verification'],
    kubeconfigPath: kubeconfig,
    bootstrapKubeconfigPath: bootstrapKubeconfig,
    log: newLogger().child({ component: 'join' }),
  };
  const errs = validateJoinOptions(joinOptions);
  // Throws a UsageError with the join flags' problems and the kubelet's together.
  const { options, tls } = await kubeletOptionsFromFlags(
    { ...f, kubeconfig, 'bootstrap-kubeconfig': bootstrapKubeconfig },
    errs
  );
  const withTunnel = boolFlag('konnectivity', f.konnectivity, errs) !== false;
  const withProxy = boolFlag('kube-proxy', f['kube-proxy'], errs) !== false;
  const proxyConfig = kubeProxyConfigFromFlags(f, errs);
  const proxyPort = intFlag('proxy-server-port', f['proxy-server-port'], errs) ?? defaultAgentPort;
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const proxyLog = newLogger().child({ component: 'kube-proxy' });
  const proxyMode = withProxy ? await chooseProxyMode(proxyConfig, proxyLog) : undefined;
  await prepareJoin(joinOptions);
  await runNode(options, tls, async (node, log) => {
    const config = await loadKubeconfig(options.kubeconfig);
    const stops: (() => Promise<void>)[] = [];
    if (withTunnel) {
      const host = f['proxy-server-host'] ?? new URL(config.server).hostname.replace(/^\[|\]$/g, '');
      const tunnel = startNodeTunnel({
        kubelet: node.kubelet,
        serverAddress: `${host.includes(':') ? `[${host}]` : host}:${proxyPort}`,
        caPem: config.caPem,
        log: log.child({ component: 'konnectivity-agent' }),
      });
      stops.push(() => tunnel.stop());
    }
    if (proxyMode) {
      const client = new KubeClient({
        server: config.server,
        caPem: config.caPem,
        token: nodeBoundToken(node.kubelet, kubeProxyServiceAccount),
        userAgent: kubeProxyUserAgent,
      });
      stops.push(startKubeProxy(client, proxyMode, proxyConfig, proxyLog));
    }
    return async () => {
      for (const stop of stops.reverse()) await stop();
    };
  });
}
