// `hubspoke konnectivity-server`: the Konnectivity server alone, with upstream's flag names (cmd/server/app/options,
// reference §4.4). Agents connect on --agent-port (TLS; token auth through TokenReview, or mTLS with
// --cluster-ca-cert); the API server dials through --uds-name (gRPC or HTTP-CONNECT) or --server-port (HTTP-CONNECT
// over mTLS TCP).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubeClient } from '../lib/kube-client.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { newLogger } from '../lib/log.js';
import { defaultAuthenticationAudience, tokenReviewAuthenticator } from '../konnectivity/server/auth.js';
import { parseProxyStrategies } from '../konnectivity/server/backends.js';
import { ProxyServer } from '../konnectivity/server/server.js';
import { waitForSignal } from './control-plane.js';
import { durationFlag, intFlag, parseFlags, UsageError } from './flags.js';

const flags = {
  mode: { type: 'string', help: 'Frontend protocol: grpc (Unix socket only) or http-connect.', default: 'grpc' },
  'uds-name': { type: 'string', help: 'Unix socket the API server dials (requires --server-port=0).' },
  'server-port': { type: 'string', help: 'HTTP-CONNECT frontend port over mTLS (0 with --uds-name).', default: '8090' },
  'server-bind-address': { type: 'string', help: 'Address of the --server-port listener.', default: '0.0.0.0' },
  'server-cert': { type: 'string', help: 'Frontend TLS certificate (TCP mode).' },
  'server-key': { type: 'string', help: 'Frontend TLS key (TCP mode).' },
  'server-ca-cert': { type: 'string', help: 'CA that verifies frontend client certificates (TCP mode, required).' },
  'agent-port': { type: 'string', help: 'Port agents connect to (gRPC over TLS).', default: '8132' },
  'agent-bind-address': { type: 'string', help: 'Address of the agent listener.', default: '0.0.0.0' },
  'cluster-cert': { type: 'string', help: 'TLS certificate of the agent listener (required).' },
  'cluster-key': { type: 'string', help: 'TLS key of the agent listener (required).' },
  'cluster-ca-cert': { type: 'string', help: 'CA that verifies agent client certificates (mTLS agent auth).' },
  'health-port': { type: 'string', help: 'Port of /healthz, /readyz, /metrics.', default: '8092' },
  'health-bind-address': { type: 'string', help: 'Address of the health listener.', default: '0.0.0.0' },
  'keepalive-time': { type: 'string', help: 'Keepalive ping interval toward agents.', default: '30s' },
  'keepalive-timeout': {
    type: 'string',
    help: 'An agent that does not answer a ping within this is removed.',
    default: '15s',
  },
  'frontend-keepalive-time': { type: 'string', help: 'Keepalive ping interval on the gRPC frontend.', default: '30s' },
  'server-id': {
    type: 'string',
    help: 'Unique ID of this server, sent to agents (default $PROXY_SERVER_ID or a UUID).',
  },
  'server-count': { type: 'string', help: 'Number of servers; agents hold a connection to each.', default: '1' },
  'proxy-strategies': {
    type: 'string',
    help: 'Backend choice, in order: destHost, cidr, defaultRoute, default.',
    default: 'destHost,default',
  },
  'agent-namespace': { type: 'string', help: "Namespace of the agents' service account (token auth)." },
  'agent-service-account': { type: 'string', help: "Name of the agents' service account (token auth)." },
  'authentication-audience': {
    type: 'string',
    help: 'Audience agent tokens must be bound to.',
    default: defaultAuthenticationAudience,
  },
  kubeconfig: { type: 'string', help: 'Kubeconfig used for TokenReviews (token auth).' },
  'backend-dial-timeout': {
    type: 'string',
    help: 'Fail a dial the agent has not answered by then (0 = never).',
    default: '0s',
  },
} as const;

export async function runKonnectivityServer(argv: string[]): Promise<void> {
  const f = parseFlags(argv, flags, 'hubspoke konnectivity-server --cluster-cert FILE --cluster-key FILE [flags]');
  const errs: string[] = [];
  const mode = f.mode;
  if (mode !== 'grpc' && mode !== 'http-connect') errs.push(`--mode: "${mode}" is not grpc or http-connect`);
  const serverPort = intFlag('server-port', f['server-port'], errs);
  const agentPort = intFlag('agent-port', f['agent-port'], errs);
  const healthPort = intFlag('health-port', f['health-port'], errs);
  const serverCount = intFlag('server-count', f['server-count'], errs);
  const keepaliveTimeMs = durationFlag('keepalive-time', f['keepalive-time'], errs);
  const keepaliveTimeoutMs = durationFlag('keepalive-timeout', f['keepalive-timeout'], errs);
  const frontendKeepaliveMs = durationFlag('frontend-keepalive-time', f['frontend-keepalive-time'], errs);
  const backendDialTimeoutMs = durationFlag('backend-dial-timeout', f['backend-dial-timeout'], errs);
  if (f['uds-name'] && serverPort !== 0) errs.push('--server-port must be 0 when --uds-name is set');
  if (!f['uds-name'] && mode === 'grpc')
    errs.push('--mode=grpc needs --uds-name (the gRPC frontend is served on a Unix socket only)');
  if (!f['uds-name'] && !(f['server-cert'] && f['server-key'] && f['server-ca-cert']))
    errs.push('--server-cert, --server-key and --server-ca-cert are required for the TCP frontend');
  if (!f['cluster-cert'] || !f['cluster-key']) errs.push('--cluster-cert and --cluster-key are required');
  const tokenAuth = Boolean(f['agent-namespace'] || f['agent-service-account']);
  if (tokenAuth && !(f['agent-namespace'] && f['agent-service-account']))
    errs.push('--agent-namespace and --agent-service-account go together');
  if (tokenAuth && f['cluster-ca-cert'])
    errs.push('token auth (--agent-namespace) and --cluster-ca-cert are mutually exclusive');
  if (tokenAuth && !f.kubeconfig) errs.push('--kubeconfig is required for token auth');
  if (!tokenAuth && !f['cluster-ca-cert'])
    errs.push('agents must authenticate: give --agent-namespace/--agent-service-account or --cluster-ca-cert');
  let strategies;
  try {
    strategies = parseProxyStrategies(f['proxy-strategies']!);
  } catch (err) {
    errs.push(`--proxy-strategies: ${(err as Error).message}`);
  }
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));

  const log = newLogger().child({ component: 'konnectivity-server' });
  const client = tokenAuth
    ? new KubeClient({ ...(await loadKubeconfig(f.kubeconfig!)), userAgent: 'konnectivity-server/hubspoke' })
    : undefined;
  const server = new ProxyServer({
    serverID: f['server-id'] ?? process.env.PROXY_SERVER_ID ?? randomUUID(),
    serverCount,
    authenticateAgent: client
      ? tokenReviewAuthenticator({
          client,
          agentNamespace: f['agent-namespace']!,
          agentServiceAccount: f['agent-service-account']!,
          audience: f['authentication-audience'],
        })
      : undefined,
    proxyStrategies: strategies,
    backendDialTimeoutMs,
    keepaliveTimeMs,
    keepaliveTimeoutMs,
    log,
  });
  const read = (p: string): string => readFileSync(p, 'utf8');
  const boundAgents = await server.listenAgents(`${f['agent-bind-address']}:${agentPort}`, {
    cert: read(f['cluster-cert']!),
    key: read(f['cluster-key']!),
    ca: f['cluster-ca-cert'] ? read(f['cluster-ca-cert']) : undefined,
  });
  let frontend: string;
  if (f['uds-name'] && mode === 'grpc') {
    await server.listenFrontend(f['uds-name'], { keepaliveTimeMs: frontendKeepaliveMs });
    frontend = `grpc on unix:${f['uds-name']}`;
  } else if (f['uds-name']) {
    await server.listenHTTPConnect({ udsPath: f['uds-name'] });
    frontend = `http-connect on unix:${f['uds-name']}`;
  } else {
    const port = await server.listenHTTPConnect({
      host: f['server-bind-address']!,
      port: serverPort!,
      tls: { cert: read(f['server-cert']!), key: read(f['server-key']!), ca: read(f['server-ca-cert']!) },
    });
    frontend = `http-connect on ${f['server-bind-address']}:${port} (mTLS)`;
  }
  const boundHealth = await server.listenHealth(f['health-bind-address']!, healthPort!);
  log.info({ agentPort: boundAgents, frontend, healthPort: boundHealth }, 'konnectivity server listening');
  await waitForSignal();
  server.close();
  client?.close();
}
