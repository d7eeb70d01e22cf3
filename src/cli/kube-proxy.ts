// `hubspoke kube-proxy`: the Service proxy alone, with kube-proxy's flag names. --proxy-mode nftables (the default
// where this process may change the firewall) or userspace (the default elsewhere, and `hubspoke up`'s mode).
import { KubeClient } from '../lib/kube-client.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { newLogger, type Logger } from '../lib/log.js';
import { formatIP, parseCIDR } from '../pki/ip.js';
import { canProgramNftables, defaultTable, nft, NftablesProxier, type NftablesOptions } from '../proxy/nftables.js';
import { cleanupScript } from '../proxy/nftables-rules.js';
import { UserspaceProxier } from '../proxy/userspace.js';
import { waitForSignal } from './control-plane.js';
import { durationFlag, parseFlags, UsageError, type FlagValues } from './flags.js';

export const kubeProxyUserAgent = 'kube-proxy/v1.33.0-hubspoke';

/** kube-proxy's own flags, shared by `hubspoke kube-proxy` and `hubspoke agent` (which runs one). */
export const kubeProxyFlags = {
  'proxy-mode': {
    type: 'string',
    help: 'nftables or userspace (default: nftables if this process may change the firewall, i.e. CAP_NET_ADMIN and nft, else userspace).',
  },
  'nodeport-addresses': {
    type: 'string',
    help: 'Comma-separated IPv4 CIDRs: NodePorts are served on the local addresses inside them (nftables; default every non-loopback address).',
  },
  'cluster-cidr': {
    type: 'string',
    help: 'The pods\u2019 IPv4 range: ClusterIP traffic from outside it is masqueraded (nftables).',
  },
  'masquerade-all': { type: 'boolean', help: 'Masquerade all ClusterIP traffic (nftables).', default: false },
  'min-sync-period': {
    type: 'string',
    help: 'The least time between two rule syncs (nftables).',
    default: '1s',
  },
  'sync-period': { type: 'string', help: 'A full resync at least this often (nftables).', default: '30s' },
} as const;

const proxyFlags = {
  kubeconfig: {
    type: 'string',
    help: "A kubeconfig with kube-proxy's credentials (system:kube-proxy, bound to system:node-proxier).",
  },
  ...kubeProxyFlags,
  cleanup: { type: 'boolean', help: "Remove kube-proxy's nftables table, then exit.", default: false },
} as const;

/** Starts a proxier on `client`; the returned function stops it (closing listeners or deleting the table). */
export function startProxy(
  client: KubeClient,
  proxier: { run(c: KubeClient, s: AbortSignal): Promise<void> }
): () => Promise<void> {
  const stop = new AbortController();
  const running = proxier.run(client, stop.signal);
  return async () => {
    stop.abort();
    await running;
    client.close();
  };
}

export const startUserspaceProxy = (client: KubeClient, log: Logger): (() => Promise<void>) =>
  startProxy(client, new UserspaceProxier(log));

/** A comma-separated list of IPv4 CIDRs, each with its host bits cleared (nft refuses them otherwise). */
function cidrList(name: string, v: string | undefined, errs: string[]): string[] {
  const out: string[] = [];
  for (const text of (v ?? '').split(',').map((s) => s.trim()))
    if (text)
      try {
        const c = parseCIDR(text, `--${name}`);
        if (c.family !== 4) errs.push(`--${name}: "${text}" is not an IPv4 CIDR`);
        else out.push(`${formatIP({ family: 4, value: c.network })}/${c.prefix}`);
      } catch (err) {
        errs.push((err as Error).message);
      }
  return out;
}

export interface KubeProxyConfig {
  mode?: 'nftables' | 'userspace';
  nftables: NftablesOptions;
}

/** kube-proxy's flags checked (problems appended to `errs`). */
export function kubeProxyConfigFromFlags(f: FlagValues<typeof kubeProxyFlags>, errs: string[]): KubeProxyConfig {
  const mode = f['proxy-mode'];
  if (mode !== undefined && mode !== 'nftables' && mode !== 'userspace')
    errs.push(`--proxy-mode: "${mode}" is not supported (nftables, userspace)`);
  const nodePortAddresses = cidrList('nodeport-addresses', f['nodeport-addresses'], errs);
  const [clusterCIDR] = cidrList('cluster-cidr', f['cluster-cidr'], errs);
  return {
    mode: mode as KubeProxyConfig['mode'],
    nftables: {
      nodePortAddresses,
      clusterCIDR,
      masqueradeAll: f['masquerade-all'],
      minSyncPeriodMs: durationFlag('min-sync-period', f['min-sync-period'], errs),
      syncPeriodMs: durationFlag('sync-period', f['sync-period'], errs),
    },
  };
}

/**
 * The mode to run in: the configured one, or without one nftables where this process may change the firewall and
 * userspace elsewhere. nftables asked for but impossible is a usage error (before anything starts).
 */
export async function chooseProxyMode(cfg: KubeProxyConfig, log: Logger): Promise<'nftables' | 'userspace'> {
  if (!cfg.mode) {
    const mode = (await canProgramNftables()) ? 'nftables' : 'userspace';
    log.info({ mode }, 'proxy mode chosen by what this process may do');
    return mode;
  }
  if (cfg.mode === 'nftables' && !(await canProgramNftables()))
    throw new UsageError('error: --proxy-mode=nftables: this process cannot change nftables (CAP_NET_ADMIN, nft)');
  return cfg.mode;
}

/** Starts kube-proxy in `mode` (from chooseProxyMode); returns the function that stops it. */
export function startKubeProxy(
  client: KubeClient,
  mode: 'nftables' | 'userspace',
  cfg: KubeProxyConfig,
  log: Logger
): () => Promise<void> {
  return startProxy(client, mode === 'nftables' ? new NftablesProxier(log, cfg.nftables) : new UserspaceProxier(log));
}

export async function runKubeProxy(argv: string[]): Promise<void> {
  const f = parseFlags(argv, proxyFlags, 'hubspoke kube-proxy --kubeconfig FILE [--proxy-mode=nftables|userspace]');
  const log = newLogger().child({ component: 'kube-proxy' });
  if (f.cleanup) {
    await nft(cleanupScript(defaultTable));
    return;
  }
  const errs: string[] = [];
  if (!f.kubeconfig) errs.push('--kubeconfig is required');
  const cfg = kubeProxyConfigFromFlags(f, errs);
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const mode = await chooseProxyMode(cfg, log);
  const config = await loadKubeconfig(f.kubeconfig!);
  const stop = startKubeProxy(new KubeClient({ ...config, userAgent: kubeProxyUserAgent }), mode, cfg, log);
  await waitForSignal();
  await stop();
}
