// `hubspoke kube-proxy`: the Service proxy alone, with kube-proxy's flag names. Only the userspace mode exists yet.
import { KubeClient } from '../lib/kube-client.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { newLogger, type Logger } from '../lib/log.js';
import { UserspaceProxier } from '../proxy/userspace.js';
import { waitForSignal } from './control-plane.js';
import { parseFlags, UsageError } from './flags.js';

const proxyFlags = {
  kubeconfig: {
    type: 'string',
    help: "A kubeconfig with kube-proxy's credentials (system:kube-proxy, bound to system:node-proxier).",
  },
  'proxy-mode': { type: 'string', help: 'Which proxy mode to use: userspace.', default: 'userspace' },
} as const;

/** Starts the userspace proxier on `client`; the returned function stops it and closes its listeners. */
export function startUserspaceProxy(client: KubeClient, log: Logger): () => Promise<void> {
  const stop = new AbortController();
  const proxier = new UserspaceProxier(log);
  const running = proxier.run(client, stop.signal);
  return async () => {
    stop.abort();
    await running;
    client.close();
  };
}

export async function runKubeProxy(argv: string[]): Promise<void> {
  const f = parseFlags(argv, proxyFlags, 'hubspoke kube-proxy --kubeconfig FILE [--proxy-mode=userspace]');
  const errs: string[] = [];
  if (!f.kubeconfig) errs.push('--kubeconfig is required');
  if (f['proxy-mode'] !== 'userspace') errs.push(`--proxy-mode: "${f['proxy-mode']}" is not supported (userspace)`);
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const config = await loadKubeconfig(f.kubeconfig!);
  const stop = startUserspaceProxy(
    new KubeClient({ ...config, userAgent: 'kube-proxy/v1.33.0-hubspoke' }),
    newLogger().child({ component: 'kube-proxy' })
  );
  await waitForSignal();
  await stop();
}
