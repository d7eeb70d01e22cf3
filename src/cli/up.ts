// `hubspoke up`: a whole cluster on this machine in one command, on loopback only, with embedded SQLite.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../lib/kube-client.js';
import { newLogger } from '../lib/log.js';
import { issueCertificate } from '../pki/index.js';
import { parseFlags } from './flags.js';
import { startControlPlane, waitForSignal } from './control-plane.js';
import { kubeProxyUserAgent, startUserspaceProxy } from './kube-proxy.js';
import { startLocalNode, waitForNodeReady } from './local-node.js';
import { startNodeTunnel, type KonnectivityServerHandle, type NodeTunnel } from './konnectivity.js';
import { apiServerOptionsFromFlags, clusterEgress, serverFlags, startKonnectivity } from './server.js';

/** Per-user default: $XDG_DATA_HOME/hubspoke or ~/.local/share/hubspoke. */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'hubspoke');
}

const upFlags = {
  'data-dir': {
    type: 'string',
    help: 'Directory for the database, certificates and kubeconfig.',
    default: defaultDataDir(),
  },
  'secure-port': { type: 'string', help: 'The port the API server listens on (127.0.0.1 only).', default: '6443' },
  'hostname-override': { type: 'string', help: "The local node's name instead of the host name." },
  'kubelet-port': {
    type: 'string',
    help: "The port of the local node's kubelet HTTPS endpoint (127.0.0.1; 0 for any free port).",
    default: '10250',
  },
  // As `hubspoke server`'s: e.g. `Direct` for the cluster selection dials the local node's kubelet (verified TLS on
  // loopback) instead of riding its konnectivity tunnel; agents joining from elsewhere then need a route to theirs.
  'egress-selector-config-file': serverFlags['egress-selector-config-file'],
} as const;

export async function runUp(argv: string[]): Promise<void> {
  const f = parseFlags(argv, upFlags, 'hubspoke up [--data-dir DIR]');
  const dataDir = f['data-dir']!;
  const started = Date.now();
  const log = newLogger();
  // Everything on loopback: the service range too, so a fresh `up` never sends a packet off this machine.
  const opts = apiServerOptionsFromFlags(
    {
      'secure-port': f['secure-port'],
      'bind-address': '127.0.0.1',
      'service-cluster-ip-range': '127.96.0.0/16',
      // As k3s: the local node's address is 127.0.0.1, its name (the host's) need not resolve.
      'kubelet-preferred-address-types': 'InternalIP,Hostname',
    } as never,
    dataDir
  );
  // Konnectivity as on any cluster, unless the egress configuration says otherwise: the API server reaches the local
  // node only through its agent's tunnel.
  const cp = await startControlPlane(
    opts,
    log,
    true,
    {},
    await clusterEgress(f['egress-selector-config-file'], true, dataDir)
  );
  let konnectivity: KonnectivityServerHandle | undefined;
  let tunnel: NodeTunnel | undefined;
  const { ca, admin: adminCert } = cp.server.pki;
  const admin = new KubeClient({
    server: cp.server.address,
    caPem: ca.cert,
    certPem: adminCert.cert,
    keyPem: adminCert.key,
    userAgent: 'hubspoke-up',
  });
  let node;
  let stopProxy: (() => Promise<void>) | undefined;
  let starting: Promise<KonnectivityServerHandle> | undefined;
  try {
    // In parallel: the serving certificate and RBAC of the konnectivity server would otherwise delay the node.
    starting = startKonnectivity(cp.server, '127.0.0.1', 0, log).then((k) => (konnectivity = k));
    starting.catch(() => {}); // awaited below; a node failure must not leave it unhandled
    node = await startLocalNode({
      server: cp.server.address,
      caPem: ca.cert,
      admin,
      rootDir: join(dataDir, 'agent'),
      hostnameOverride: f['hostname-override'],
      port: f['kubelet-port']!,
      log,
    });
    await starting;
    tunnel = startNodeTunnel({
      kubelet: node.kubelet,
      serverAddress: `127.0.0.1:${konnectivity!.agentPort}`,
      caPem: ca.cert,
      log: log.child({ component: 'konnectivity-agent' }),
    });
    // kube-proxy in userspace mode with its own identity: the ClusterIPs are in 127/8, so no firewall is touched.
    const proxyCert = await issueCertificate({
      ca,
      commonName: 'system:kube-proxy',
      usages: ['client'],
      validityMs: 365 * 24 * 3600 * 1000,
    });
    stopProxy = startUserspaceProxy(
      new KubeClient({
        server: cp.server.address,
        caPem: ca.cert,
        certPem: proxyCert.cert,
        keyPem: proxyCert.key,
        userAgent: kubeProxyUserAgent,
      }),
      log.child({ component: 'kube-proxy' })
    );
    const name = node.kubelet.options.nodeName;
    await waitForNodeReady(admin, name, (ms) =>
      process.stderr.write(`waiting for node ${name} to be Ready… ${Math.round(ms / 1000)}s\n`)
    );
  } catch (err) {
    await stopProxy?.();
    await tunnel?.stop();
    await node?.stop();
    await starting?.then(
      (k) => k.close(),
      () => {}
    );
    admin.close();
    await cp.close();
    throw err;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `hubspoke is up in ${secs}s: API server at ${cp.server.address}, node ${node.kubelet.options.nodeName}, ` +
      `data in ${dataDir}\n\n` +
      `  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get nodes\n\nPress Ctrl-C to stop.\n`
  );
  await waitForSignal();
  // As after a kubelet restart, the node's pods keep running and the next `up` on this data dir adopts them.
  process.stdout.write("stopping… (the node's pods keep running; the next `up` adopts them)\n");
  await stopProxy();
  await tunnel.stop();
  await node.stop();
  konnectivity?.close();
  admin.close();
  await cp.close();
}
