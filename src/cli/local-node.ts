// `hubspoke up`'s node (as k3s runs its agent in the server process): the kubelet joins the local control plane by
// the same path as any other node — a bootstrap token made through the API, the CA checked against its pin, the
// client and serving certificates got by CSR (the controllers approve them) — so it holds only a node's
// credentials. A later `up` on the same data dir finds the certificates valid and needs no token.
import { join } from 'node:path';
import { kubeadmNodeTokenGroup } from '../apiserver/authz/bootstrap-policy.js';
import { clientCertificateProblem } from '../kubelet/bootstrap/bootstrap.js';
import { prepareJoin } from '../kubelet/bootstrap/join.js';
import { startKubeletWithBootstrap, type NodeAgent } from '../kubelet/bootstrap/node.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { caCertHash } from '../pki/index.js';
import { kubeletFlags, kubeletOptionsFromFlags } from './kubelet.js';
import { bootstrapTokenSecret, generateBootstrapToken } from './token.js';

export interface LocalNodeOptions {
  /** The API server's URL. */
  server: string;
  caPem: string;
  /** The admin client the bootstrap token is created with. */
  admin: KubeClient;
  /** `<data-dir>/agent`: the kubelet's root dir, certificates and logs. */
  rootDir: string;
  hostnameOverride?: string;
  /** The kubelet's HTTPS port (0: any free port). */
  port: string;
  log: Logger;
}

/** How long the token `up` joins with stays valid: the join takes seconds, the rest is margin. */
const joinTokenTTLMs = 10 * 60 * 1000;

export async function startLocalNode(o: LocalNodeOptions): Promise<NodeAgent> {
  const kubeconfig = join(o.rootDir, 'kubelet.conf');
  const bootstrapKubeconfig = join(o.rootDir, 'bootstrap-kubelet.conf');
  const flags = Object.fromEntries(Object.keys(kubeletFlags).map((k) => [k, undefined])) as {
    [K in keyof typeof kubeletFlags]: string | undefined;
  };
  const { options, tls } = await kubeletOptionsFromFlags({
    ...flags,
    kubeconfig,
    'bootstrap-kubeconfig': bootstrapKubeconfig,
    'root-dir': o.rootDir,
    'pod-logs-dir': join(o.rootDir, 'logs'),
    'hostname-override': o.hostnameOverride,
    // Loopback only: the node's address is every pod's (host network), and nothing here leaves the machine.
    'node-ip': '127.0.0.1',
    address: '127.0.0.1',
    port: o.port,
  });
  let token: string | undefined;
  if (await clientCertificateProblem(kubeconfig)) {
    token = generateBootstrapToken();
    const secret = bootstrapTokenSecret(token, {
      ttlMs: joinTokenTTLMs,
      description: `hubspoke up: the join of node ${options.nodeName}`,
      groups: [kubeadmNodeTokenGroup],
      usages: ['authentication', 'signing'],
      kubeconfig: '',
    });
    await o.admin.request('POST', '/api/v1/namespaces/kube-system/secrets', secret);
  }
  await prepareJoin({
    server: o.server,
    token,
    caCertHashes: [caCertHash(o.caPem)],
    unsafeSkipCAVerification: false,
    kubeconfigPath: kubeconfig,
    bootstrapKubeconfigPath: bootstrapKubeconfig,
    log: o.log.child({ component: 'join' }),
  });
  const onWait = (ms: number): void => {
    process.stderr.write(`waiting for the node's client certificate to be issued… ${Math.round(ms / 1000)}s\n`);
  };
  return startKubeletWithBootstrap(options, { ...tls, onWait }, o.log.child({ component: 'kubelet' }));
}

/** Resolves once the Node reports Ready, calling `onWait` about every second until then. */
export async function waitForNodeReady(
  client: KubeClient,
  name: string,
  onWait: (elapsedMs: number) => void
): Promise<void> {
  const started = Date.now();
  let reported = 0;
  for (;;) {
    const node = await client.get(`/api/v1/nodes/${name}`).catch(() => undefined);
    const ready = node?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
    if (ready?.status === 'True') return;
    const elapsed = Date.now() - started;
    if (elapsed - reported >= 1000) {
      reported = elapsed;
      onWait(elapsed);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
