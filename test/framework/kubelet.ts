// startTestKubelet() for tests: a kubelet in this process against a test control plane, with a client
// certificate for system:node:<name> issued from the control plane's CA, temp root and log dirs, node IP
// 127.0.0.1. On test end the kubelet stops and every container shim it started is killed by pid.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { processAlive } from '../../src/kubelet/runtime/state.js';
import {
  completeKubeletOptions,
  validateKubeletOptions,
  type KubeletConfiguration,
  type KubeletOptions,
} from '../../src/kubelet/options.js';
import { newLogger } from '../../src/lib/log.js';
import { issueCertificate, kubeconfig, writeKeyFile } from '../../src/pki/index.js';
import type { TestControlPlane } from './control-plane.js';

type Hook = { after(fn: () => Promise<void>): void };

export interface TestKubelet {
  kubelet: Kubelet;
  nodeName: string;
  rootDir: string;
  podLogsDir: string;
  kubeconfigPath: string;
  /** Stops the kubelet and starts a new one on the same directories (pods keep running); `whileDown` runs between. */
  restart(whileDown?: () => Promise<void>): Promise<Kubelet>;
}

export async function startTestKubelet(
  t: Hook,
  cp: TestControlPlane,
  opts: {
    nodeName?: string;
    config?: KubeletConfiguration;
    options?: Pick<KubeletOptions, 'sshHostKeyFile' | 'sshPort'>;
    /**
     * Serve a certificate from the cluster CA for the node's name and 127.0.0.1, as one a kubelet-serving CSR would
     * get, so the API server verifies the kubelet (without it the kubelet makes itself a self-signed one).
     */
    servingCertificate?: boolean;
  } = {}
): Promise<TestKubelet> {
  const nodeName = opts.nodeName ?? 'node-1';
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubelet-'));
  const { ca } = cp.server.pki;
  const cert = await issueCertificate({
    ca,
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    usages: ['client'],
    validityMs: 3600_000,
  });
  const kubeconfigPath = join(dir, 'kubelet.kubeconfig');
  await writeKeyFile(
    kubeconfigPath,
    kubeconfig({ server: cp.url, caPem: ca.cert, clientCertPem: cert.cert, clientKeyPem: cert.key, user: nodeName })
  );
  const rootDir = join(dir, 'root');
  const podLogsDir = join(dir, 'pods');
  const serving: KubeletConfiguration = {};
  if (opts.servingCertificate) {
    const c = await issueCertificate({
      ca,
      commonName: `system:node:${nodeName}`,
      organizations: ['system:nodes'],
      dnsNames: [nodeName],
      ipAddresses: ['127.0.0.1'],
      usages: ['server'],
      validityMs: 3600_000,
    });
    serving.tlsCertFile = join(dir, 'kubelet.crt');
    serving.tlsPrivateKeyFile = join(dir, 'kubelet.key');
    await writeFile(serving.tlsCertFile, c.cert);
    await writeKeyFile(serving.tlsPrivateKeyFile, c.key);
  }
  const { options, errors } = await completeKubeletOptions({
    kubeconfig: kubeconfigPath,
    hostnameOverride: nodeName,
    nodeIP: '127.0.0.1',
    rootDir,
    ...opts.options,
    // The HTTPS server on loopback, on a free port.
    overrides: { podLogsDir, port: 0, address: '127.0.0.1', ...serving, ...opts.config },
  });
  errors.push(...validateKubeletOptions(options));
  if (errors.length) throw new Error(errors.join('\n'));
  const log = newLogger({ format: 'json', level: process.env.HUBSPOKE_TEST_LOG_LEVEL ?? 'silent' });
  const shims = new Set<number>();
  let kubelet = await Kubelet.start(options, log);
  const tk: TestKubelet = {
    kubelet,
    nodeName,
    rootDir,
    podLogsDir,
    kubeconfigPath,
    async restart(whileDown) {
      for (const pid of kubelet.runtime.shimPids()) shims.add(pid);
      await kubelet.stop();
      await whileDown?.();
      kubelet = await Kubelet.start(options, log);
      tk.kubelet = kubelet;
      return kubelet;
    },
  };
  t.after(async () => {
    for (const pid of kubelet.runtime.shimPids()) shims.add(pid);
    await kubelet.stop();
    for (const pid of shims)
      try {
        process.kill(pid, 'SIGKILL'); // the shim's sandbox dies with it (--die-with-parent)
      } catch {
        // already gone
      }
    for (let i = 0; i < 100 && [...shims].some((pid) => processAlive(pid)); i++)
      await new Promise((r) => setTimeout(r, 20));
    // A runtime may still record a shim's death while the directory goes: retry as rm -rf would.
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return tk;
}
