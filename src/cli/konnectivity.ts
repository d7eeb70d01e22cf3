// Konnectivity wired into `hubspoke server` and the node (`hubspoke agent`, `up`'s local node), so a node needs no
// inbound port: the control plane's konnectivity server listens for agents (TLS, a serving certificate from the
// cluster CA) and for the API server's `cluster` dials on a Unix socket in the data dir; each node's agent dials out.
//
// How a node authenticates its agent (the simplest secure path): with its own node credentials it asks for a token
// of the service account kube-system/konnectivity-agent, audience system:konnectivity-server, bound to its Node
// object (./node-identities.ts), renewed before it expires. The server checks it by TokenReview on every Connect
// (upstream's way). Nothing is copied by hand and no long-lived secret is stored on the node.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NodeCondition, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiServer } from '../apiserver/server.js';
import { konnectivityServerUser } from '../apiserver/authz/bootstrap-policy.js';
import type { EgressDialer } from '../apiserver/egress/dialer.js';
import { KonnectivityDialer } from '../apiserver/egress/konnectivity.js';
import type { Kubelet } from '../kubelet/kubelet.js';
import { AgentClientSet } from '../konnectivity/agent/clientset.js';
import { defaultAuthenticationAudience, tokenReviewAuthenticator } from '../konnectivity/server/auth.js';
import { ProxyServer } from '../konnectivity/server/server.js';
import { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { issueCertificate } from '../pki/index.js';
import { konnectivityAgentServiceAccount, nodeBoundToken, nodeDaemonNamespace } from './node-identities.js';

/** The name agents check the server's certificate against (no IP SNI; the certificate also has the IPs). */
export const konnectivityServerName = 'konnectivity-server';
/** Upstream's documented agent port for Konnectivity (the binary's own default is 8091). */
export const defaultAgentPort = 8132;

export const konnectivitySocket = (dataDir: string): string => join(dataDir, 'konnectivity-server.socket');

/** The `cluster` dialer of a server that runs its konnectivity server in-process. */
export function inProcessClusterDialer(dataDir: string): EgressDialer {
  return new KonnectivityDialer({ udsName: konnectivitySocket(dataDir) });
}

export interface KonnectivityServerHandle {
  /** The agent port actually bound. */
  agentPort: number;
  close(): void;
}

/**
 * Starts the konnectivity server next to the API server: agents on `bindAddress:agentPort` (TLS), the API server's
 * dials on the data dir's socket. Agents are authenticated by TokenReview through the API server.
 */
export async function startKonnectivityServer(o: {
  server: ApiServer;
  bindAddress: string;
  agentPort: number;
  log: Logger;
}): Promise<KonnectivityServerHandle> {
  const { ca } = o.server.pki;
  const opts = o.server.options;
  const ips = [...new Set([opts.advertiseAddress, o.bindAddress].filter((a) => a && a !== '0.0.0.0' && a !== '::'))];
  const serving = await issueCertificate({
    ca,
    commonName: konnectivityServerName,
    dnsNames: [konnectivityServerName, hostname()],
    ipAddresses: ips,
    usages: ['server'],
    validityMs: 365 * 24 * 3600 * 1000,
  });
  // Its own identity, bound to system:auth-delegator (and node reads) by the bootstrap policy: not the admin's.
  const identity = await issueCertificate({
    ca,
    commonName: konnectivityServerUser,
    usages: ['client'],
    validityMs: 365 * 24 * 3600 * 1000,
  });
  const client = new KubeClient({
    server: o.server.address,
    caPem: ca.cert,
    certPem: identity.cert,
    keyPem: identity.key,
    userAgent: 'hubspoke-konnectivity-server',
  });
  const proxy = new ProxyServer({
    serverID: randomUUID(),
    authenticateAgent: tokenReviewAuthenticator({
      client,
      agentNamespace: nodeDaemonNamespace,
      agentServiceAccount: konnectivityAgentServiceAccount,
      requireNodeBinding: true,
    }),
    // Only the node's own agent: a dial for a node whose tunnel is down fails as "no tunnel" at once instead of
    // going to some other node's agent (pods and endpoints here have their node's address).
    proxyStrategies: ['destHost'],
    log: o.log,
  });
  await proxy.listenFrontend(konnectivitySocket(opts.dataDir));
  const host = o.bindAddress.includes(':') ? `[${o.bindAddress}]` : o.bindAddress;
  const agentPort = await proxy.listenAgents(`${host}:${o.agentPort}`, serving);
  o.log.info({ agentPort, socket: konnectivitySocket(opts.dataDir) }, 'konnectivity server listening');
  return {
    agentPort,
    close() {
      proxy.close();
      client.close();
    },
  };
}

/**
 * The default allow-list: the kubelet's port on the node's address, and the ports the node's pods declare on
 * their addresses (pods share the node's address here). Anything else the control plane asks for is refused.
 */
function nodeAllowList(kubelet: Kubelet): (host: string, port: number) => boolean {
  const nodeIP = kubelet.options.nodeIP;
  return (host, port) => {
    if (host !== nodeIP) return false;
    // The port the Node publishes is the one the API server dials (the bound one when --port is 0).
    const kubeletPort = kubelet.nodeStatus.node?.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? kubelet.options.port;
    if (port === kubeletPort) return true;
    return kubelet.podManager
      .pods()
      .some((p: Pod) => p.spec?.containers.some((c) => c.ports?.some((cp) => cp.containerPort === port)));
  };
}

export interface NodeTunnel {
  agents: AgentClientSet;
  stop(): Promise<void>;
}

/**
 * Runs the node's konnectivity agent and reports it on the Node as the `TunnelReady` condition (reason
 * TunnelConnected / NoTunnel), written as soon as it changes.
 */
export function startNodeTunnel(o: {
  kubelet: Kubelet;
  /** The konnectivity server's agent address, `host:port`. */
  serverAddress: string;
  caPem: string;
  log: Logger;
}): NodeTunnel {
  const k = o.kubelet;
  const agents = new AgentClientSet({
    serverAddress: o.serverAddress,
    caCert: o.caPem,
    serverName: konnectivityServerName,
    agentID: k.options.nodeName,
    agentIdentifiers: new URLSearchParams({ host: k.options.nodeName, ipv4: k.options.nodeIP }).toString(),
    token: nodeBoundToken(k, konnectivityAgentServiceAccount, [defaultAuthenticationAudience]),
    allow: nodeAllowList(k),
    log: o.log,
  });
  const condition = (): Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'> =>
    agents.ready
      ? {
          type: 'TunnelReady',
          status: 'True',
          reason: 'TunnelConnected',
          message: `connected to ${agents.serverIDs.length} of ${agents.serverCount} konnectivity servers at ${o.serverAddress}`,
        }
      : {
          type: 'TunnelReady',
          status: 'False',
          reason: 'NoTunnel',
          message: `no connection to the konnectivity server at ${o.serverAddress}: the control plane cannot reach this node`,
        };
  k.nodeStatus.addConditionProvider(condition);
  let last = agents.ready;
  const watch = setInterval(() => {
    if (agents.ready === last) return;
    last = agents.ready;
    o.log.info({ ready: last, servers: agents.serverIDs }, 'konnectivity tunnel changed');
    void k.nodeStatus.update(true).catch(() => {}); // the status loop retries
  }, 500);
  agents.start();
  return {
    agents,
    async stop() {
      clearInterval(watch);
      await agents.stop();
    },
  };
}
