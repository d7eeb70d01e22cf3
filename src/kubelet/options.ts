// Kubelet options: a KubeletConfiguration file (kubelet.config.k8s.io/v1beta1 field names) with flags on top
// (flags win, as upstream). complete() fills defaults and host facts; validate() returns every error at once.
import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { Quantity } from '../api/validation/quantity.js';
import { defaultTLSCipherSuites, validateTLSCipherSuites } from '../pki/index.js';

/** The subset of KubeletConfiguration this kubelet reads; names and units as upstream. */
export interface KubeletConfiguration {
  port?: number;
  maxPods?: number;
  podLogsDir?: string;
  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  nodeStatusUpdateFrequency?: string;
  nodeStatusReportFrequency?: string;
  nodeLeaseDurationSeconds?: number;
  registerNode?: boolean;
  nodeLabels?: Record<string, string>;
  // The HTTPS server (server/): security.md §5.1.
  address?: string;
  readOnlyPort?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsCipherSuites?: string[];
  tlsMinVersion?: string;
  streamingConnectionIdleTimeout?: string;
  authentication?: {
    x509?: { clientCAFile?: string };
    webhook?: { enabled?: boolean; cacheTTL?: string };
    anonymous?: { enabled?: boolean };
  };
  authorization?: {
    mode?: 'Webhook' | 'AlwaysAllow';
    webhook?: { cacheAuthorizedTTL?: string; cacheUnauthorizedTTL?: string };
  };
}

export interface KubeletOptions {
  kubeconfig?: string;
  config?: string;
  hostnameOverride?: string;
  nodeIP?: string;
  rootDir?: string;
  /** --ssh-host-key-file/--ssh-port: published for the API server's SSH tunnels (nodestatus/ssh.ts). */
  sshHostKeyFile?: string;
  sshPort?: number;
  /** From flags; these win over the file. */
  overrides: KubeletConfiguration;
}

export interface CompletedKubeletOptions {
  kubeconfig: string;
  nodeName: string;
  hostname: string;
  nodeIP: string;
  rootDir: string;
  podLogsDir: string;
  port: number;
  maxPods: number;
  containerLogMaxSizeBytes: number;
  containerLogMaxFiles: number;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  registerNode: boolean;
  nodeLabels: Record<string, string>;
  sshHostKeyFile?: string;
  sshPort?: number;
  server: KubeletServerConfig;
}

/** The HTTPS server's settings, defaulted (server/README in src/kubelet/README.md). */
export interface KubeletServerConfig {
  address: string;
  readOnlyPort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsCipherSuites: string[];
  tlsMinVersion: 'VersionTLS12' | 'VersionTLS13';
  streamingConnectionIdleTimeoutMs: number;
  /** "" = the cluster CA of the kubeconfig. */
  clientCAFile: string;
  anonymousAuth: boolean;
  webhookAuthentication: boolean;
  authenticationCacheTTLMs: number;
  authorizationMode: 'Webhook' | 'AlwaysAllow';
  authorizedCacheTTLMs: number;
  unauthorizedCacheTTLMs: number;
}

const defaults = {
  port: 10250,
  maxPods: 110,
  podLogsDir: '/var/log/pods',
  containerLogMaxSize: '10Mi',
  containerLogMaxFiles: 5,
  nodeStatusUpdateFrequency: '10s',
  nodeStatusReportFrequency: '5m',
  nodeLeaseDurationSeconds: 40,
  registerNode: true,
  // With a config file upstream defaults these to the secure values (CIS 4.2.1–4.2.5); hubspoke always does.
  address: '0.0.0.0',
  readOnlyPort: 0,
  tlsMinVersion: 'VersionTLS12',
  streamingConnectionIdleTimeout: '4h',
} satisfies KubeletConfiguration;

/** A Go duration (`10s`, `5m`, `1h30m`, `500ms`) in milliseconds, or NaN. */
export function parseDuration(v: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0];
  }
  return consumed === v && v !== '' ? total : NaN;
}

/** `--node-labels`: `k=v,k2=v2`. */
export function parseLabels(v: string): Record<string, string> | Error {
  const out: Record<string, string> = {};
  for (const part of v.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return new Error(`invalid label "${part}": want key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

async function defaultNodeIP(hostname: string): Promise<string> {
  // Upstream resolves the host name; failing that, the first non-loopback IPv4 address.
  try {
    return (await lookup(hostname, { family: 4 })).address;
  } catch {
    for (const addrs of Object.values(networkInterfaces()))
      for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    return '127.0.0.1';
  }
}

/** Reads the config file and fills every default; errors reading the file are thrown. */
export async function completeKubeletOptions(
  o: KubeletOptions
): Promise<{ options: CompletedKubeletOptions; errors: string[] }> {
  const errors: string[] = [];
  let file: KubeletConfiguration & { kind?: string; apiVersion?: string } = {};
  if (o.config) {
    file = (parse(await readFile(o.config, 'utf8')) ?? {}) as typeof file;
    if (file.kind !== 'KubeletConfiguration' || file.apiVersion !== 'kubelet.config.k8s.io/v1beta1')
      errors.push(`--config ${o.config}: want kind KubeletConfiguration, apiVersion kubelet.config.k8s.io/v1beta1`);
  }
  const flags = Object.fromEntries(Object.entries(o.overrides).filter(([, v]) => v !== undefined));
  const c = { ...defaults, ...file, ...flags };
  // Nested sections merge field by field, so one flag does not drop the file's other fields.
  const authn = deepMerge(file.authentication, o.overrides.authentication) ?? {};
  const authz = deepMerge(file.authorization, o.overrides.authorization) ?? {};
  const hostname = (o.hostnameOverride ?? osHostname()).toLowerCase();
  const dur = (name: string, v: string): number => {
    const ms = parseDuration(v);
    if (Number.isNaN(ms)) errors.push(`${name}: "${v}" is not a duration`);
    return ms;
  };
  let logMax = NaN;
  try {
    logMax = Quantity.parse(c.containerLogMaxSize).value();
  } catch {
    errors.push(`containerLogMaxSize: "${c.containerLogMaxSize}" is not a quantity`);
  }
  return {
    errors,
    options: {
      kubeconfig: o.kubeconfig ?? '',
      nodeName: hostname,
      hostname,
      nodeIP: o.nodeIP ?? (await defaultNodeIP(hostname)),
      rootDir: o.rootDir ?? '/var/lib/kubelet',
      podLogsDir: c.podLogsDir,
      port: c.port,
      maxPods: c.maxPods,
      containerLogMaxSizeBytes: logMax,
      containerLogMaxFiles: c.containerLogMaxFiles,
      nodeStatusUpdateFrequencyMs: dur('nodeStatusUpdateFrequency', c.nodeStatusUpdateFrequency),
      nodeStatusReportFrequencyMs: dur('nodeStatusReportFrequency', c.nodeStatusReportFrequency),
      nodeLeaseDurationSeconds: c.nodeLeaseDurationSeconds,
      registerNode: c.registerNode,
      nodeLabels: c.nodeLabels ?? {},
      sshHostKeyFile: o.sshHostKeyFile,
      sshPort: o.sshPort,
      server: {
        address: c.address,
        readOnlyPort: c.readOnlyPort,
        tlsCertFile: c.tlsCertFile,
        tlsPrivateKeyFile: c.tlsPrivateKeyFile,
        tlsCipherSuites: c.tlsCipherSuites?.length ? c.tlsCipherSuites : defaultTLSCipherSuites,
        tlsMinVersion: c.tlsMinVersion as KubeletServerConfig['tlsMinVersion'],
        streamingConnectionIdleTimeoutMs: dur('streamingConnectionIdleTimeout', c.streamingConnectionIdleTimeout),
        clientCAFile: authn.x509?.clientCAFile ?? '',
        anonymousAuth: authn.anonymous?.enabled ?? false,
        webhookAuthentication: authn.webhook?.enabled ?? true,
        authenticationCacheTTLMs: dur('authentication.webhook.cacheTTL', authn.webhook?.cacheTTL ?? '2m'),
        authorizationMode: authz.mode ?? 'Webhook',
        authorizedCacheTTLMs: dur(
          'authorization.webhook.cacheAuthorizedTTL',
          authz.webhook?.cacheAuthorizedTTL ?? '5m'
        ),
        unauthorizedCacheTTLMs: dur(
          'authorization.webhook.cacheUnauthorizedTTL',
          authz.webhook?.cacheUnauthorizedTTL ?? '30s'
        ),
      },
    },
  };
}

/** Merges plain objects recursively; `b`'s defined values win. */
function deepMerge<T>(a: T | undefined, b: T | undefined): T | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) if (v !== undefined) out[k] = deepMerge(out[k], v);
  return out as T;
}

export function validateKubeletOptions(o: CompletedKubeletOptions): string[] {
  const errs: string[] = [];
  if (!o.kubeconfig)
    errs.push('--kubeconfig is required: the kubelet talks to the API server only with its own credentials');
  if (!isIP(o.nodeIP)) errs.push(`--node-ip: "${o.nodeIP}" is not an IP address`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.nodeName) || o.nodeName.length > 253)
    errs.push(`--hostname-override: "${o.nodeName}" is not a valid node name (a DNS-1123 subdomain)`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) errs.push(`port: ${o.port} is not a port`);
  if (o.sshPort !== undefined && !(Number.isInteger(o.sshPort) && o.sshPort > 0 && o.sshPort < 65536))
    errs.push(`--ssh-port: ${o.sshPort} is not a port`);
  if (!Number.isInteger(o.maxPods) || o.maxPods < 1) errs.push(`maxPods: ${o.maxPods} must be a positive integer`);
  if (!(o.containerLogMaxSizeBytes >= 1024)) errs.push('containerLogMaxSize: must be at least 1Ki');
  if (!Number.isInteger(o.containerLogMaxFiles) || o.containerLogMaxFiles < 2)
    errs.push(`containerLogMaxFiles: ${o.containerLogMaxFiles} must be at least 2`);
  if (!Number.isInteger(o.nodeLeaseDurationSeconds) || o.nodeLeaseDurationSeconds <= 0)
    errs.push(`nodeLeaseDurationSeconds: ${o.nodeLeaseDurationSeconds} must be a positive integer`);
  const srv = o.server;
  if (!isIP(srv.address)) errs.push(`address: "${srv.address}" is not an IP address`);
  if (srv.readOnlyPort !== 0)
    errs.push('readOnlyPort: must be 0: hubspoke never serves the unauthenticated read-only port');
  if (!!srv.tlsCertFile !== !!srv.tlsPrivateKeyFile)
    errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  if (srv.tlsMinVersion !== 'VersionTLS12' && srv.tlsMinVersion !== 'VersionTLS13')
    errs.push(`tlsMinVersion: "${String(srv.tlsMinVersion)}" is not VersionTLS12 or VersionTLS13`);
  errs.push(...validateTLSCipherSuites(srv.tlsCipherSuites));
  if (srv.authorizationMode !== 'Webhook' && srv.authorizationMode !== 'AlwaysAllow')
    errs.push(`authorization.mode: "${String(srv.authorizationMode)}" is not Webhook or AlwaysAllow`);
  if (!srv.webhookAuthentication && !srv.anonymousAuth && !srv.clientCAFile && !o.kubeconfig)
    errs.push('authentication: no way to authenticate a request (no client CA, no token webhook, anonymous off)');
  for (const [k, v] of Object.entries({
    nodeStatusUpdateFrequency: o.nodeStatusUpdateFrequencyMs,
    nodeStatusReportFrequency: o.nodeStatusReportFrequencyMs,
  }))
    if (!(v > 0)) errs.push(`${k}: must be a positive duration`);
  return errs;
}
