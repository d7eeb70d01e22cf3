// API server options → complete → validate (upstream's ServerRunOptions). Flag names are kube-apiserver's.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { validateStoreOptions } from '../storage/index.js';
import { validateAdmissionPlugins } from './admission/index.js';
import { defaultTLSCipherSuites, validateTLSCipherSuites } from './tls-ciphers.js';
import { defaultAuthorizationModes, validateAuthorizationModes } from './authz/modes.js';
import { parseIPv4CIDR } from './registry/allocator.js';
import { defaultPreferredAddressTypes } from './egress/node-address.js';
import { defaultServiceAccountIssuer } from './authn/serviceaccount-token.js';

export interface ApiServerOptions {
  /** @default 6443 */
  securePort?: number;
  /** @default 0.0.0.0 */
  bindAddress?: string;
  /** The address other members reach this server at. @default the bind address, or 127.0.0.1 for 0.0.0.0 */
  advertiseAddress?: string;
  /** Serving certificate; generated under <data-dir>/pki when not given (with --tls-private-key-file). */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** CA that signs client certificates. @default <data-dir>/pki/ca.crt */
  clientCAFile?: string;
  /** --tls-cipher-suites, Go's names; TLS 1.3 suites are always on. @default the CIS 1.2.29 list */
  tlsCipherSuites?: string[];
  /** @default 10.96.0.0/16 */
  serviceClusterIPRange?: string;
  dataDir: string;
  /** @default 60000 */
  requestTimeoutMs?: number;
  /** @default 400 */
  maxRequestsInflight?: number;
  /** @default 200 */
  maxMutatingRequestsInflight?: number;
  /** @default 60000 (upstream sends a bookmark about once a minute) */
  watchBookmarkIntervalMs?: number;
  /** Events each resource's watch cache keeps for watches that start in the past. @default 1000 */
  watchCacheSize?: number;
  /**
   * Events one watcher may fall behind before it is cut off (the client re-lists). By default as many as the window
   * holds: a watcher further behind could not resume from the window anyway. @default watchCacheSize
   */
  watcherBufferSize?: number;
  /** This server's identity Lease (kube-system/apiserver-<id>) expires this long after its last renewal. @default 15000 */
  identityLeaseDurationMs?: number;
  /** How often the identity Lease is renewed. @default 5000 */
  identityLeaseRenewIntervalMs?: number;
  /** How often old revisions are compacted; 0 disables. @default 300000 (upstream --etcd-compaction-interval 5m) */
  compactionIntervalMs?: number;
  /** --authorization-mode, in order. @default ['Node', 'RBAC'] (upstream's own default is AlwaysAllow) */
  authorizationMode?: string[];
  /** --enable-admission-plugins: added to the defaults (which already include NodeRestriction). @default [] */
  enableAdmissionPlugins?: string[];
  /** --disable-admission-plugins: removed from the defaults. @default [] */
  disableAdmissionPlugins?: string[];
  /** etcd client URLs (--etcd-servers); none selects the embedded SQLite database in the data dir. @default [] */
  etcdServers?: string[];
  /** --etcd-cafile, --etcd-certfile, --etcd-keyfile: TLS to etcd with client-certificate auth. */
  etcdCAFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** The prefix of every key in etcd (--etcd-prefix). @default '/registry' */
  etcdPrefix?: string;
  /** --anonymous-auth: requests without credentials become system:anonymous. @default false (upstream: true) */
  anonymousAuth?: boolean;
  /** --token-auth-file: static bearer tokens, `token,user,uid[,"groups"]`. CIS 1.2.2: leave unset. */
  tokenAuthFile?: string;
  /** --enable-bootstrap-token-auth: kube-system bootstrap-token-* Secrets authenticate. @default true */
  enableBootstrapTokenAuth?: boolean;
  /** --service-account-issuer (repeatable): the first issues tokens, all are accepted. @default [https://kubernetes.default.svc.cluster.local] */
  serviceAccountIssuers?: string[];
  /** --api-audiences: what a token must be meant for to authenticate to this server. @default the issuers */
  apiAudiences?: string[];
  /** --service-account-key-file (repeatable): extra PEM keys that verify service-account tokens. @default [] */
  serviceAccountKeyFiles?: string[];
  /** --service-account-signing-key-file: the private key tokens are signed with. @default <pki>/sa.key, generated */
  serviceAccountSigningKeyFile?: string;
  /** --service-account-max-token-expiration in seconds; 0 = no cap. @default 0 */
  serviceAccountMaxTokenExpirationSeconds?: number;
  /** --service-account-extend-token-expiration: pod-bound 3607 s tokens really last a year (with warnafter). @default true */
  serviceAccountExtendTokenExpiration?: boolean;
  /** --service-account-jwks-uri in the OIDC discovery document. @default <advertise address>/openid/v1/jwks */
  serviceAccountJwksUri?: string;
  /** --kubelet-client-certificate/--kubelet-client-key: the API server's identity toward kubelets. @default <pki>/apiserver-kubelet-client.crt, issued from the cluster CA */
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  /** --kubelet-certificate-authority: what kubelets' serving certificates must chain to. @default the cluster CA (upstream: unverified) */
  kubeletCertificateAuthority?: string;
  /** --kubelet-insecure-skip-tls-verify: do not verify kubelets' serving certificates (warned at start and on every use). @default false */
  kubeletInsecureSkipTLSVerify?: boolean;
  /** --kubelet-preferred-address-types. @default InternalIP, ExternalIP, Hostname (see proxy/location.ts) */
  kubeletPreferredAddressTypes?: string[];
  /** --kubelet-timeout: how long a dial (TCP and TLS) to a kubelet, pod or service may take. @default 5000 */
  kubeletTimeoutMs?: number;
  /** --proxy-ca-file: what `https:` pods/services proxy backends must chain to. @default the cluster CA */
  proxyCAFile?: string;
  /**
   * --ssh-user/--ssh-keyfile: reach nodes through SSH tunnels (upstream's removed flags; deprecated, logged at
   * start): every `cluster` dial is a channel on an SSH connection to the node's sshd (egress/ssh/).
   */
  sshUser?: string;
  sshKeyfile?: string;
  /** --ssh-port: the nodes' sshd port when a Node does not publish hubspoke.io/ssh-port. @default 22 */
  sshPort?: number;
  /** --ssh-known-hosts: an OpenSSH known_hosts file pinning nodes' host keys (wins over their hubspoke.io/ssh-host-key). */
  sshKnownHosts?: string;
}

export type CompletedApiServerOptions = Required<
  Omit<
    ApiServerOptions,
    | 'tlsCertFile'
    | 'tlsPrivateKeyFile'
    | 'clientCAFile'
    | 'etcdCAFile'
    | 'etcdCertFile'
    | 'etcdKeyFile'
    | 'tokenAuthFile'
    | 'serviceAccountSigningKeyFile'
    | 'serviceAccountJwksUri'
    | 'kubeletClientCertificate'
    | 'kubeletClientKey'
    | 'kubeletCertificateAuthority'
    | 'proxyCAFile'
    | 'sshUser'
    | 'sshKeyfile'
    | 'sshKnownHosts'
  >
> & {
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  proxyCAFile?: string;
  sshUser?: string;
  sshKeyfile?: string;
  sshKnownHosts?: string;
  tokenAuthFile?: string;
  serviceAccountSigningKeyFile?: string;
  serviceAccountJwksUri?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  etcdCAFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  hostname: string;
  pkiDir: string;
};

export function completeApiServerOptions(o: ApiServerOptions): CompletedApiServerOptions {
  const bindAddress = o.bindAddress ?? '0.0.0.0';
  const issuers = o.serviceAccountIssuers?.length ? o.serviceAccountIssuers : [defaultServiceAccountIssuer];
  return Object.freeze({
    securePort: o.securePort ?? 6443,
    bindAddress,
    advertiseAddress:
      o.advertiseAddress ?? (bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress),
    tlsCertFile: o.tlsCertFile,
    tlsPrivateKeyFile: o.tlsPrivateKeyFile,
    clientCAFile: o.clientCAFile,
    tlsCipherSuites: o.tlsCipherSuites ?? [...defaultTLSCipherSuites],
    serviceClusterIPRange: o.serviceClusterIPRange ?? '10.96.0.0/16',
    dataDir: o.dataDir,
    requestTimeoutMs: o.requestTimeoutMs ?? 60_000,
    maxRequestsInflight: o.maxRequestsInflight ?? 400,
    maxMutatingRequestsInflight: o.maxMutatingRequestsInflight ?? 200,
    watchBookmarkIntervalMs: o.watchBookmarkIntervalMs ?? 60_000,
    compactionIntervalMs: o.compactionIntervalMs ?? 300_000,
    authorizationMode: o.authorizationMode ?? [...defaultAuthorizationModes],
    enableAdmissionPlugins: o.enableAdmissionPlugins ?? [],
    disableAdmissionPlugins: o.disableAdmissionPlugins ?? [],
    etcdServers: o.etcdServers ?? [],
    etcdCAFile: o.etcdCAFile,
    etcdCertFile: o.etcdCertFile,
    etcdKeyFile: o.etcdKeyFile,
    etcdPrefix: o.etcdPrefix ?? '/registry',
    anonymousAuth: o.anonymousAuth ?? false,
    tokenAuthFile: o.tokenAuthFile,
    enableBootstrapTokenAuth: o.enableBootstrapTokenAuth ?? true,
    serviceAccountIssuers: issuers,
    apiAudiences: o.apiAudiences?.length ? o.apiAudiences : issuers,
    serviceAccountKeyFiles: o.serviceAccountKeyFiles ?? [],
    serviceAccountSigningKeyFile: o.serviceAccountSigningKeyFile,
    serviceAccountMaxTokenExpirationSeconds: o.serviceAccountMaxTokenExpirationSeconds ?? 0,
    serviceAccountExtendTokenExpiration: o.serviceAccountExtendTokenExpiration ?? true,
    serviceAccountJwksUri: o.serviceAccountJwksUri,
    kubeletClientCertificate: o.kubeletClientCertificate,
    kubeletClientKey: o.kubeletClientKey,
    kubeletCertificateAuthority: o.kubeletCertificateAuthority,
    kubeletInsecureSkipTLSVerify: o.kubeletInsecureSkipTLSVerify ?? false,
    kubeletPreferredAddressTypes: o.kubeletPreferredAddressTypes?.length
      ? o.kubeletPreferredAddressTypes
      : defaultPreferredAddressTypes,
    kubeletTimeoutMs: o.kubeletTimeoutMs ?? 5_000,
    proxyCAFile: o.proxyCAFile,
    sshUser: o.sshUser,
    sshKeyfile: o.sshKeyfile,
    sshPort: o.sshPort ?? 22,
    sshKnownHosts: o.sshKnownHosts,
    watchCacheSize: o.watchCacheSize ?? 1000,
    watcherBufferSize: o.watcherBufferSize ?? o.watchCacheSize ?? 1000,
    identityLeaseDurationMs: o.identityLeaseDurationMs ?? 15_000,
    identityLeaseRenewIntervalMs: o.identityLeaseRenewIntervalMs ?? 5_000,
    hostname: hostname(),
    pkiDir: join(o.dataDir, 'pki'),
  });
}

/** Every problem at once, each naming its flag. */
export function validateApiServerOptions(o: CompletedApiServerOptions): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(o.securePort) || o.securePort < 0 || o.securePort > 65535)
    errs.push(`--secure-port: ${o.securePort} must be between 0 and 65535`);
  if (!isIP(o.bindAddress)) errs.push(`--bind-address: "${o.bindAddress}" is not an IP address`);
  if (!isIP(o.advertiseAddress)) errs.push(`--advertise-address: "${o.advertiseAddress}" is not an IP address`);
  if (!!o.tlsCertFile !== !!o.tlsPrivateKeyFile)
    errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  try {
    parseIPv4CIDR(o.serviceClusterIPRange);
  } catch (err) {
    errs.push(`--service-cluster-ip-range: ${(err as Error).message}`);
  }
  if (!o.dataDir) errs.push('--data-dir: required');
  if (o.requestTimeoutMs <= 0) errs.push('--request-timeout: must be positive');
  if (!!o.kubeletClientCertificate !== !!o.kubeletClientKey)
    errs.push('--kubelet-client-certificate and --kubelet-client-key must be given together');
  if (o.kubeletTimeoutMs <= 0) errs.push('--kubelet-timeout: must be positive');
  for (const t of o.kubeletPreferredAddressTypes)
    if (!['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'].includes(t))
      errs.push(`--kubelet-preferred-address-types: unknown address type "${t}"`);
  if (!!o.sshUser !== !!o.sshKeyfile) errs.push('--ssh-user and --ssh-keyfile must be given together');
  if (!Number.isInteger(o.sshPort) || o.sshPort < 1 || o.sshPort > 65535)
    errs.push(`--ssh-port: ${o.sshPort} must be between 1 and 65535`);
  if (o.sshKnownHosts && !o.sshUser) errs.push('--ssh-known-hosts: only used with --ssh-user and --ssh-keyfile');
  errs.push(...validateAuthorizationModes(o.authorizationMode));
  errs.push(...validateAdmissionPlugins(o.enableAdmissionPlugins, o.disableAdmissionPlugins));
  errs.push(...validateTLSCipherSuites(o.tlsCipherSuites));
  errs.push(...validateStoreOptions(o));
  for (const iss of o.serviceAccountIssuers)
    if (iss.includes(':') && !URL.canParse(iss))
      errs.push(`--service-account-issuer: "${iss}" contains a ':' but is not a valid URL`);
  if (o.serviceAccountMaxTokenExpirationSeconds !== 0 && o.serviceAccountMaxTokenExpirationSeconds < 3600)
    errs.push('--service-account-max-token-expiration: must be at least 1h (or 0 for no maximum)');
  return errs;
}
