// `hubspoke konnectivity-agent`: the Konnectivity agent alone, with upstream's flag names (cmd/agent/app/options,
// reference §4.3). Dials out to the server (a load balancer for several), holds --server-count streams, and dials
// only what --allowed-destination lists. First SIGTERM drains (DRAIN, no new servers); the second stops.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newLogger } from '../lib/log.js';
import { allowList, type AllowList } from '../konnectivity/agent/allow-list.js';
import { AgentClientSet } from '../konnectivity/agent/clientset.js';
import { listenHealth } from '../konnectivity/health.js';
import { boolFlag, durationFlag, intFlag, parseFlags, UsageError } from './flags.js';

const flags = {
  'proxy-server-host': {
    type: 'string',
    help: 'Host of the konnectivity server (or its load balancer).',
    default: '127.0.0.1',
  },
  'proxy-server-port': { type: 'string', help: 'Agent port of the konnectivity server.', default: '8132' },
  'ca-cert': { type: 'string', help: 'CA that verifies the server certificate (required).' },
  'agent-cert': { type: 'string', help: 'Client certificate for mTLS agent auth (with --agent-key).' },
  'agent-key': { type: 'string', help: 'Client key for mTLS agent auth.' },
  'service-account-token-path': { type: 'string', help: 'Bound service-account token, re-read on every connect.' },
  'agent-id': { type: 'string', help: 'Agent ID (default $PROXY_AGENT_ID or a UUID).' },
  'agent-identifiers': {
    type: 'string',
    help: 'URL query of identifiers: host, ipv4, ipv6, cidr, default-route.',
    default: '',
  },
  'allowed-destination': {
    type: 'string',
    multiple: true,
    help: 'hubspoke: host:port or host:* this agent may dial (repeatable); nothing else is dialled.',
  },
  'sync-interval': { type: 'string', help: 'Initial and steady interval between connect attempts.', default: '1s' },
  'sync-interval-cap': { type: 'string', help: 'Backoff ceiling between failed attempts.', default: '10s' },
  'sync-forever': {
    type: 'string',
    help: 'Keep looking for new and restarted servers once --server-count is met.',
    default: 'true',
  },
  'keepalive-time': { type: 'string', help: 'Keepalive ping interval toward servers.', default: '30s' },
  'keepalive-timeout': {
    type: 'string',
    help: 'A server that does not answer a ping within this is dropped.',
    default: '15s',
  },
  'health-server-host': { type: 'string', help: 'Address of /healthz, /readyz, /metrics.', default: '0.0.0.0' },
  'health-server-port': { type: 'string', help: 'Port of the health listener.', default: '8093' },
} as const;

const agentIdentifierKeys = new Set(['host', 'ipv4', 'ipv6', 'cidr', 'default-route']);

export async function runKonnectivityAgent(argv: string[]): Promise<void> {
  const f = parseFlags(argv, flags, 'hubspoke konnectivity-agent --ca-cert FILE --proxy-server-host HOST [flags]');
  const errs: string[] = [];
  const port = intFlag('proxy-server-port', f['proxy-server-port'], errs);
  const healthPort = intFlag('health-server-port', f['health-server-port'], errs);
  const syncIntervalMs = durationFlag('sync-interval', f['sync-interval'], errs);
  const syncIntervalCapMs = durationFlag('sync-interval-cap', f['sync-interval-cap'], errs);
  const keepaliveTimeMs = durationFlag('keepalive-time', f['keepalive-time'], errs);
  const keepaliveTimeoutMs = durationFlag('keepalive-timeout', f['keepalive-timeout'], errs);
  const syncForever = boolFlag('sync-forever', f['sync-forever'], errs);
  if (!f['ca-cert']) errs.push('--ca-cert is required');
  if (Boolean(f['agent-cert']) !== Boolean(f['agent-key'])) errs.push('--agent-cert and --agent-key go together');
  if (!f['service-account-token-path'] && !f['agent-cert'])
    errs.push('give --service-account-token-path (token auth) or --agent-cert/--agent-key (mTLS)');
  if (syncIntervalMs !== undefined && syncIntervalCapMs !== undefined && syncIntervalMs > syncIntervalCapMs)
    errs.push('--sync-interval must not exceed --sync-interval-cap');
  for (const key of new URLSearchParams(f['agent-identifiers']).keys())
    if (!agentIdentifierKeys.has(key)) errs.push(`--agent-identifiers: unknown key "${key}"`);
  let allow: AllowList = () => false;
  try {
    allow = allowList(f['allowed-destination']);
  } catch (err) {
    errs.push(`--allowed-destination: ${(err as Error).message}`);
  }
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));

  const log = newLogger().child({ component: 'konnectivity-agent' });
  const read = (p: string): string => readFileSync(p, 'utf8');
  const tokenPath = f['service-account-token-path'];
  const agents = new AgentClientSet({
    serverAddress: `${f['proxy-server-host']}:${port}`,
    caCert: read(f['ca-cert']!),
    agentCert: f['agent-cert'] ? read(f['agent-cert']) : undefined,
    agentKey: f['agent-key'] ? read(f['agent-key']) : undefined,
    agentID: f['agent-id'] ?? process.env.PROXY_AGENT_ID ?? randomUUID(),
    agentIdentifiers: f['agent-identifiers']!,
    token: tokenPath ? () => read(tokenPath).trim() : undefined,
    allow: allow,
    syncIntervalMs,
    syncIntervalCapMs,
    syncForever,
    keepaliveTimeMs,
    keepaliveTimeoutMs,
    log,
  });
  const health = await listenHealth(f['health-server-host']!, healthPort!, {
    notReady: () => (agents.ready ? undefined : '[-]server-connected failed: no servers connected'),
    unreadyStatus: 503,
    registry: agents.metrics.registry,
  });
  agents.start();
  log.info({ server: `${f['proxy-server-host']}:${port}`, healthPort: health.port }, 'konnectivity agent started');
  // Upstream: the first signal drains (new dials go to other agents), the second stops.
  await new Promise<void>((resolve) => {
    let signals = 0;
    const on = (sig: string): void => {
      if (++signals === 1) {
        log.info({ signal: sig }, 'draining: no new dials come to this agent; signal again to stop');
        agents.drain();
        return;
      }
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  await agents.stop();
  health.server.close();
}
