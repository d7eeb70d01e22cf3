// The proxyProtocols of an EgressSelectorConfiguration: how each is validated (upstream's rules, config.go) and
// which EgressDialer it builds. A new protocol is one entry here (and its transport, if new, in config.ts).
import { readFile } from 'node:fs/promises';
import type { FieldError, FieldPath } from '../../api/field.js';
import type { EgressSelectorConfiguration, Transport } from './config.js';
import { DirectDialer, EgressSelector, type EgressDialer, type EgressSelection } from './dialer.js';
import { HTTPConnectDialer } from './http-connect.js';
import { KonnectivityDialer } from './konnectivity.js';
import { newSSHDialer, type SSHEgressSettings } from './ssh/index.js';
import { validateSSHConnection } from './ssh/config.js';
import { silentLogger, type Logger } from '../../lib/log.js';

export interface ProxyProtocol {
  /** Problems with `connection.transport` for this protocol (`p` is the connection's path). */
  validate(transport: Transport | undefined, p: FieldPath): FieldError[];
  /** The dialer for a validated transport. */
  dialer(transport: Transport | undefined, ctx: DialerContext): Promise<EgressDialer>;
}

/** What a dialer may need from the API server's own options (the SSH dialer: which node address, how long). */
export interface DialerContext {
  log: Logger;
  /** --kubelet-preferred-address-types */
  preferredAddressTypes: readonly string[];
  /** --kubelet-timeout */
  dialTimeoutMs: number;
}

const defaultContext: DialerContext = {
  log: silentLogger,
  preferredAddressTypes: ['InternalIP', 'ExternalIP', 'Hostname'],
  dialTimeoutMs: 5000,
};

/** Reads a TLS file named in the configuration, saying which field named it when it cannot. */
async function readConfigFile(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`egress selector configuration: ${field} ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
}

export const proxyProtocols: Record<string, ProxyProtocol> = {
  Direct: {
    validate: (t, p) => (t ? [p.child('transport').invalid('direct', 'config must be absent for direct connect')] : []),
    dialer: async () => new DirectDialer(),
  },
  // Upstream's apiserver speaks GRPC to the konnectivity server over a Unix socket only.
  GRPC: {
    validate: (t, p) => {
      if (!t) return [p.child('transport').required('transport must be set for GRPC')];
      if (!t.uds) return [p.child('transport').child('uds').required('UDS must be set with GRPC')];
      return [];
    },
    dialer: async (t) => new KonnectivityDialer({ udsName: t!.uds!.udsName }),
  },
  HTTPConnect: {
    validate: (t, p) => {
      if (!t) return [p.child('transport').required('transport must be set for HTTPConnect')];
      if (t.tcp && t.uds) return [p.child('transport').child('tcp').invalid('tcp', 'TCP and UDS cannot both be set')];
      if (!t.tcp && !t.uds) return [p.child('transport').child('tcp').required('One of TCP or UDS must be set')];
      return [];
    },
    dialer: async (t) => {
      if (t!.uds) return new HTTPConnectDialer({ udsName: t!.uds.udsName });
      const { url, tlsConfig } = t!.tcp!;
      if (!tlsConfig) return new HTTPConnectDialer({ url });
      const field = 'egressSelections[].connection.transport.tcp.tlsConfig';
      return new HTTPConnectDialer({
        url,
        tls: {
          ca: tlsConfig.caBundle ? await readConfigFile(tlsConfig.caBundle, `${field}.caBundle`) : undefined,
          cert: await readConfigFile(tlsConfig.clientCert!, `${field}.clientCert`),
          key: await readConfigFile(tlsConfig.clientKey!, `${field}.clientKey`),
          servername: tlsConfig.tlsServerName,
        },
      });
    },
  },
  // hubspoke extension: SSH tunnels to each node's sshd (ssh/), the deprecated path upstream removed.
  SSH: {
    validate: validateSSHConnection,
    dialer: async (t, ctx) =>
      newSSHDialer(t!.ssh as SSHEgressSettings, {
        preferredAddressTypes: ctx.preferredAddressTypes,
        connectTimeoutMs: ctx.dialTimeoutMs,
        log: ctx.log,
      }),
  },
};

/** Upstream's NewEgressSelector: one dialer per listed selection; the rest dial directly. */
export async function egressDialers(
  config: EgressSelectorConfiguration,
  ctx: DialerContext = defaultContext
): Promise<Partial<Record<EgressSelection, EgressDialer>>> {
  const dialers: Partial<Record<EgressSelection, EgressDialer>> = {};
  for (const s of config.egressSelections)
    dialers[s.name] = await proxyProtocols[s.connection.proxyProtocol]!.dialer(s.connection.transport, ctx);
  return dialers;
}

export async function newEgressSelector(config: EgressSelectorConfiguration): Promise<EgressSelector> {
  return new EgressSelector(await egressDialers(config));
}
