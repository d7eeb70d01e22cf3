// The API server: HTTPS only (TLS 1.2+, HTTP/2 by ALPN with HTTP/1.1 kept for upgrades), one filter chain, the
// registry over the Store. Lifecycle as upstream's: complete options → build → bootstrap → serve → drain.
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { allVerbs, type KubeObject } from '../api/resource.js';
import { coreToEventsV1, eventsV1ToCore } from '../api/conversion/events.js';
import { builtinResources, apiGroupOrder } from '../api/resources/index.js';
import { OpenAPIService } from '../api/openapi/index.js';
import { ensureClusterPKI } from '../pki/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { checkStore, startCompaction } from '../storage/index.js';
import { WatchMux } from '../storage/cacher/index.js';
import type { Store } from '../storage/interface.js';
import { enabledAdmissionPlugins, newAdmissionChain } from './admission/index.js';
import { buildAuthentication, loadAuthenticationFiles, type AuthenticationFiles } from './authn/config.js';
import { newAuthorizer, type AuthorizationMode } from './authz/modes.js';
import { NodeAuthorizer } from './authz/node.js';
import { NodeGraph, populateNodeGraph } from './authz/node-graph.js';
import { RBACAuthorizer } from './authz/rbac.js';
import { bootstrapPolicy } from './bootstrap.js';
import { buildHandlerChain } from './chain.js';
import type { Handler, RequestContext, Request, Response } from './context.js';
import { Discovery, type VersionInfo } from './endpoints/discovery.js';
import { Health } from './endpoints/health.js';
import { serveResource, type EndpointsConfig } from './endpoints/resource.js';
import { writeBody } from './endpoints/responses.js';
import { newRequestMetrics } from './filters/metrics.js';
import type { CompletedApiServerOptions } from './options.js';
import { IdentityLease } from './identity-lease.js';
import { ObjectCache } from './registry/cache.js';
import { csrHooks, podHooks, namespaceHooks, serviceHooks } from './registry/hooks.js';
import { RegistryStore, type RegistryHooks } from './registry/store.js';
import { Subresources } from './registry/subresources.js';
import { Reviews } from './registry/reviews.js';
import { accessReviews } from './registry/authorization/access-reviews.js';
import { authenticationReviews } from './registry/authentication/reviews.js';
import { tokenRequestHandler } from './registry/authentication/token-request.js';
import { jwksPath, OpenIDMetadata } from './endpoints/openid.js';
import { unknownFieldsFinder } from './endpoints/unknown-fields.js';
import { resolveRequestInfo } from './request-info.js';
import { egressSelectionNames } from './egress/config.js';
import { EgressSelector, type EgressDialer, type EgressSelection } from './egress/dialer.js';
import { feedNodes, newSSHDialer, SSHDialer } from './egress/ssh/index.js';
import type { TLSClientConfig } from './proxy/backend.js';
import { ensureKubeletClientCertificate } from './proxy/credentials.js';
import { registerProxySubresources } from './proxy/subresources.js';
import { opensslCiphers } from './tls-ciphers.js';
import { StatusError } from '../api/errors.js';

/** The API server's TLS toward kubelets: its client certificate, and the CA kubelets must chain to. */
async function kubeletClientTLS(
  options: CompletedApiServerOptions,
  pki: Awaited<ReturnType<typeof ensureClusterPKI>>,
  log: Logger
): Promise<TLSClientConfig> {
  const pair =
    options.kubeletClientCertificate && options.kubeletClientKey
      ? {
          cert: await readFile(options.kubeletClientCertificate, 'utf8'),
          key: await readFile(options.kubeletClientKey, 'utf8'),
        }
      : await ensureKubeletClientCertificate(options.pkiDir, pki.ca);
  if (options.kubeletInsecureSkipTLSVerify)
    log.warn(
      {},
      "KUBELET TLS VERIFICATION IS OFF: --kubelet-insecure-skip-tls-verify, so kubelets' serving certificates are not checked and the connection can be intercepted"
    );
  return {
    ...pair,
    ca: options.kubeletCertificateAuthority ? await readFile(options.kubeletCertificateAuthority, 'utf8') : pki.ca.cert,
    insecureSkipVerify: options.kubeletInsecureSkipTLSVerify,
  };
}

/** The Kubernetes release whose API hubspoke serves; kubectl's dispatcher picks its binary by this minor. */
export const kubernetesVersion = { major: '1', minor: '33', patch: '0' };

export interface ApiServerDeps {
  store: Store;
  log?: Logger;
  /** Dialers per egress selection (--egress-selector-config-file, or `hubspoke server`'s konnectivity); the rest direct. */
  egressDialers?: Partial<Record<EgressSelection, EgressDialer>>;
}

export class ApiServer {
  readonly #server: Http2SecureServer;
  /** Every in-flight request listens on it (one listener each, removed when the response closes). */
  readonly #shutdown = unlimitedListeners(new AbortController());
  /** What must be loaded before the server is ready: the RBAC caches and the Node authorizer's graph. */
  readonly #caches: { synced(): Promise<void> }[];
  readonly #sockets = new Set<TLSSocket>();
  readonly #stopCompaction: () => void;
  /** The one storage watch feeding every resource's watch cache. */
  readonly #watchMux: WatchMux;
  #identityLease: IdentityLease | undefined;
  readonly metricsRegistry: Registry;
  /** The cluster CA, serving certificate and admin credentials in use. */
  readonly pki: Awaited<ReturnType<typeof ensureClusterPKI>>;
  readonly stores: ReadonlyMap<string, RegistryStore>;

  private constructor(
    readonly options: CompletedApiServerOptions,
    readonly store: Store,
    readonly log: Logger,
    pki: Awaited<ReturnType<typeof ensureClusterPKI>>,
    tls: { cert: string; key: string; clientCA: string; kubelet: TLSClientConfig; proxyCA: string },
    authnFiles: AuthenticationFiles,
    private readonly egress: EgressSelector
  ) {
    this.pki = pki;
    this.metricsRegistry = new Registry();
    const stores = new Map<string, RegistryStore>();
    this.#watchMux = new WatchMux(store, log);
    const watchCache = {
      mux: this.#watchMux,
      windowSize: options.watchCacheSize,
      watcherBufferSize: options.watcherBufferSize,
      log,
    };
    const hooksFor = (group: string, resource: string): RegistryHooks | undefined => {
      if (group === 'certificates.k8s.io' && resource === 'certificatesigningrequests') return csrHooks;
      if (group !== '') return undefined;
      if (resource === 'pods') return podHooks;
      if (resource === 'namespaces') return namespaceHooks;
      if (resource === 'services') return serviceHooks(store, options.serviceClusterIPRange);
      return undefined;
    };
    for (const def of builtinResources) {
      // The create-only reviews are answered by `reviews` below, never stored: they get no registry store.
      if (!(def.verbs ?? allVerbs).includes('get')) continue;
      // core/v1 and events.k8s.io/v1 Events are one resource, stored in the core shape.
      const conversion =
        def.group === 'events.k8s.io' ? { toStorage: eventsV1ToCore, fromStorage: coreToEventsV1 } : undefined;
      stores.set(
        `${def.group}/${def.version}/${def.resource}`,
        new RegistryStore(def, store, watchCache, hooksFor(def.group, def.resource), conversion)
      );
    }
    this.stores = stores;
    const byResource = (group: string, resource: string): RegistryStore | undefined =>
      [...stores.values()].find((s) => s.def.group === group && s.def.resource === resource);
    const rbacStore = (resource: string): RegistryStore => byResource('rbac.authorization.k8s.io', resource)!;
    const roles = new ObjectCache(rbacStore('roles'));
    const clusterRoles = new ObjectCache(rbacStore('clusterroles'));
    const roleBindings = new ObjectCache(rbacStore('rolebindings'));
    const clusterRoleBindings = new ObjectCache(rbacStore('clusterrolebindings'));
    this.#caches = [roles, clusterRoles, roleBindings, clusterRoleBindings];
    const rbac = new RBACAuthorizer({
      getRole: (ns, name) => roles.get(ns, name) as never,
      getClusterRole: (name) => clusterRoles.get('', name) as never,
      listRoleBindings: (ns) => roleBindings.list(ns) as never,
      listClusterRoleBindings: () => clusterRoleBindings.list() as never,
    });
    const nodeGraph = new NodeGraph();
    const graphFeed = populateNodeGraph(byResource('', 'pods')!, nodeGraph, this.#shutdown.signal, log);
    this.#caches.push({ synced: () => graphFeed.synced });
    if (options.authorizationMode.includes('AlwaysAllow'))
      log.warn(
        { authorizationMode: options.authorizationMode },
        'AUTHORIZATION IS OFF: --authorization-mode includes AlwaysAllow, so every authenticated request is allowed'
      );
    const authorizer = newAuthorizer(options.authorizationMode as AuthorizationMode[], {
      node: new NodeAuthorizer(nodeGraph),
      rbac,
    });
    // Live reads for admission: `undefined` when the object does not exist.
    const getter = (group: string, resource: string) => {
      const s = byResource(group, resource)!;
      return async (namespace: string, name: string): Promise<KubeObject | undefined> => {
        try {
          return await s.get(namespace, name);
        } catch (err) {
          if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
          throw err;
        }
      };
    };
    const [getNamespace, getNode] = [getter('', 'namespaces'), getter('', 'nodes')];
    // NamespaceLifecycle reads the namespace from the watch cache, live only when the cache lacks it (one just
    // created), as upstream's plugin uses its lister: on etcd the live read was half of every create's round trips.
    const namespaces = new ObjectCache(byResource('', 'namespaces')!);
    this.#caches.push(namespaces);
    const admission = newAdmissionChain(
      enabledAdmissionPlugins(options.enableAdmissionPlugins, options.disableAdmissionPlugins),
      {
        getNamespace: async (name) => namespaces.get('', name) ?? getNamespace('', name),
        getServiceAccount: getter('', 'serviceaccounts'),
        getPod: getter('', 'pods'),
        getNode: (name) => getNode('', name),
        authorizer,
      }
    );
    // What service-account and bootstrap tokens are checked against, read live so a deletion counts at once.
    const boundObjects = {
      getServiceAccount: getter('', 'serviceaccounts'),
      getPod: getter('', 'pods'),
      getSecret: getter('', 'secrets'),
      getNode: (name: string) => getNode('', name),
    };
    const authentication = buildAuthentication(options, authnFiles, boundObjects);
    const reviews = new Reviews([
      ...authenticationReviews({ tokens: authentication.tokens, apiAudiences: options.apiAudiences, log }),
      ...accessReviews(authorizer, authorizer),
    ]);
    const openID = new OpenIDMetadata(
      options.serviceAccountIssuers[0]!,
      () => options.serviceAccountJwksUri ?? `${this.address}${jwksPath}`,
      authnFiles.serviceAccountKeys
    );
    const openapi = new OpenAPIService(builtinResources, {
      title: 'Kubernetes',
      version: `v${kubernetesVersion.major}.${kubernetesVersion.minor}.${kubernetesVersion.patch}`,
    });
    const subresources = new Subresources(admission);
    subresources.register(
      '',
      'serviceaccounts',
      'token',
      tokenRequestHandler({
        keys: authnFiles.serviceAccountKeys,
        issuer: options.serviceAccountIssuers[0]!,
        apiAudiences: options.apiAudiences,
        maxExpirationSeconds: options.serviceAccountMaxTokenExpirationSeconds,
        extendExpiration: options.serviceAccountExtendTokenExpiration,
        getter: boundObjects,
      })
    );
    registerProxySubresources(subresources, {
      egress,
      kubeletTLS: tls.kubelet,
      preferredAddressTypes: options.kubeletPreferredAddressTypes,
      proxyCA: tls.proxyCA,
      dialTimeoutMs: options.kubeletTimeoutMs,
      // A single-host cluster's pods share the host network, so their IP is the node's (loopback in tests).
      allowLoopbackPods: options.bindAddress.startsWith('127.') || options.advertiseAddress.startsWith('127.'),
      authorizer,
      get: (kind, ns, name) => byResource('', kind)!.get(ns, name),
      log,
    });
    const endpoints: EndpointsConfig = {
      resources: { lookup: (g, v, r) => stores.get(`${g}/${v}/${r}`), byResource },
      admission,
      subresources,
      unknownFields: unknownFieldsFinder(),
      bookmarkIntervalMs: options.watchBookmarkIntervalMs,
      log,
    };
    const version: VersionInfo = {
      major: kubernetesVersion.major,
      minor: kubernetesVersion.minor,
      gitVersion: `v${kubernetesVersion.major}.${kubernetesVersion.minor}.${kubernetesVersion.patch}+hubspoke`,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2026-11-22T00:00:00Z',
      goVersion: `node${process.versions.node}`,
      compiler: 'tsc',
      platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    };
    const discovery = new Discovery(builtinResources, apiGroupOrder, version);
    const storageCheck = { name: 'etcd', check: () => checkStore(store) };
    const cachesCheck = {
      name: 'informer-sync',
      check: async () => void (await Promise.all(this.#caches.map((c) => c.synced()))),
    };
    const ping = { name: 'ping', check: async () => undefined };
    const health = new Health({
      healthz: [ping, storageCheck],
      livez: [ping, storageCheck],
      readyz: [
        ping,
        storageCheck,
        cachesCheck,
        {
          name: 'shutdown',
          check: async () =>
            void (this.#shutdown.signal.aborted ? Promise.reject(new Error('shutting down')) : undefined),
        },
      ],
    });

    const api: Handler = async (ctx, req, res) => {
      if (ctx.requestInfo.isResourceRequest) {
        if (await reviews.serve(ctx, req, res)) return;
        return serveResource(ctx, req, res, endpoints);
      }
      if (discovery.serve(ctx, req, res)) return;
      if (await openID.serve(ctx, req, res)) return;
      if (await health.serve(ctx, req, res)) return;
      if (ctx.url.pathname === '/metrics') {
        return writeBody(ctx, req, res, 200, await this.metricsRegistry.metrics(), this.metricsRegistry.contentType);
      }
      const doc = openapi.respond(ctx.url.pathname, ctx.url.searchParams, {
        accept: req.headers.accept,
        ifNoneMatch: req.headers['if-none-match'],
      });
      if (doc) {
        ctx.statusCode = doc.status;
        res.writeHead(doc.status, doc.headers);
        if (doc.body) res.end(doc.body);
        else res.end();
        return;
      }
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    };
    const metrics = newRequestMetrics(this.metricsRegistry);
    const chain = buildHandlerChain(api, {
      authenticator: authentication.request,
      authorizer,
      limits: { readonly: options.maxRequestsInflight, mutating: options.maxMutatingRequestsInflight },
      requestTimeoutMs: options.requestTimeoutMs,
      metrics,
      log,
    });

    this.#server = createSecureServer({
      key: tls.key,
      cert: tls.cert,
      ca: tls.clientCA,
      requestCert: true,
      rejectUnauthorized: false, // the x509 authenticator decides; requests may also carry tokens (issue 4)
      allowHTTP1: true, // kubectl's exec/attach/port-forward upgrades are HTTP/1.1
      minVersion: 'TLSv1.2',
      ciphers: opensslCiphers(options.tlsCipherSuites),
      honorCipherOrder: true,
    });
    this.#server.on('request', (req: Request, res: Response) => void this.#dispatch(chain, req, res));
    // HTTP/1.1 upgrades (exec, attach, port-forward, proxied WebSockets) go down the same chain, so they are
    // authenticated and authorized before anything is dialled; refusals are written as responses on the socket.
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      res.once('finish', () => socket.end());
      void this.#dispatch(chain, req, res, { socket, head });
    });
    // Every TLS connection (HTTP/2 sessions and HTTP/1.1 alike), so close() can end the ones that linger.
    this.#server.on('secureConnection', (socket: TLSSocket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#stopCompaction =
      options.compactionIntervalMs > 0
        ? startCompaction(store, { intervalMs: options.compactionIntervalMs, log })
        : () => undefined;
  }

  #dispatch(chain: Handler, req: Request, res: Response, upgrade?: RequestContext['upgrade']): Promise<void> {
    // Only watches and proxied streams read their signal: its controller and shutdown listener are made on first
    // use (already aborted if the request has ended or the server is stopping), not for every GET and create.
    const shutdown = this.#shutdown.signal;
    let abort: AbortController | undefined;
    let ended = false;
    const onShutdown = (): void => abort!.abort(requestEnded);
    res.once('close', () => {
      ended = true;
      if (!abort) return;
      abort.abort(requestEnded);
      shutdown.removeEventListener('abort', onShutdown);
    });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://apiserver');
    } catch {
      url = new URL('https://apiserver/');
    }
    const ctx: RequestContext = {
      url,
      requestInfo: unresolvedRequestInfo,
      get signal() {
        if (!abort) {
          abort = new AbortController();
          if (ended || shutdown.aborted) abort.abort(requestEnded);
          else shutdown.addEventListener('abort', onShutdown, { once: true });
        }
        return abort.signal;
      },
      upgrade,
      warnings: [],
      startTime: process.hrtime.bigint(),
    };
    return chain(ctx, req, res);
  }

  static async start(options: CompletedApiServerOptions, deps: ApiServerDeps): Promise<ApiServer> {
    const log = deps.log ?? silentLogger;
    const pki = await ensureClusterPKI(options.pkiDir, {
      hostname: options.hostname,
      advertiseAddress: options.advertiseAddress,
      serviceClusterIPRange: options.serviceClusterIPRange,
    });
    const tls = {
      // The generated serving certificate goes out with its CA, so a joining node can check the CA against its
      // pin in the handshake, before it sends its bootstrap token (src/kubelet/bootstrap/discovery.ts).
      cert: options.tlsCertFile
        ? await readFile(options.tlsCertFile, 'utf8')
        : `${pki.apiserver.cert.trimEnd()}\n${pki.ca.cert}`,
      key: options.tlsPrivateKeyFile ? await readFile(options.tlsPrivateKeyFile, 'utf8') : pki.apiserver.key,
      clientCA: options.clientCAFile ? await readFile(options.clientCAFile, 'utf8') : pki.ca.cert,
      kubelet: await kubeletClientTLS(options, pki, log),
      proxyCA: options.proxyCAFile ? await readFile(options.proxyCAFile, 'utf8') : pki.ca.cert,
    };
    const authnFiles = await loadAuthenticationFiles(options, log);
    // SSH tunnels for the `cluster` selection (--ssh-user/--ssh-keyfile), fed the Nodes once the caches exist.
    let ssh: SSHDialer | undefined;
    if (options.sshUser && options.sshKeyfile)
      ssh = await newSSHDialer(
        {
          user: options.sshUser,
          keyFile: options.sshKeyfile,
          port: options.sshPort,
          knownHostsFile: options.sshKnownHosts,
        },
        { preferredAddressTypes: options.kubeletPreferredAddressTypes, connectTimeoutMs: options.kubeletTimeoutMs, log }
      );
    const egress = new EgressSelector({ ...deps.egressDialers, ...(ssh ? { cluster: ssh } : {}) });
    const server = new ApiServer(options, deps.store, log, pki, tls, authnFiles, egress);
    // Said once at start: which way each kind of traffic leaves (an operator's first question when a node is
    // unreachable).
    log.info(Object.fromEntries(egressSelectionNames.map((sel) => [sel, egress.lookup(sel).name])), 'egress dialers');
    // SSH dialers (from the flags or the configuration's SSH protocol) learn the nodes from the watch cache.
    for (const d of new Set(egressSelectionNames.map((sel) => egress.lookup(sel))))
      if (d instanceof SSHDialer) feedNodes(server.stores.get('/v1/nodes')!, d, server.#shutdown.signal, log);
    await bootstrapPolicy(server.stores, log);
    await Promise.all(server.#caches.map((c) => c.synced()));
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(options.securePort, options.bindAddress, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    log.info({ address: server.address }, 'API server listening');
    // Announce this server once it serves: the `kubernetes` endpoints list the servers with a live lease.
    server.#identityLease = new IdentityLease(
      server.stores.get('coordination.k8s.io/v1/leases')!,
      { hostname: options.hostname, advertiseAddress: options.advertiseAddress, port: server.port },
      log,
      { leaseDurationMs: options.identityLeaseDurationMs, renewIntervalMs: options.identityLeaseRenewIntervalMs }
    );
    await server.#identityLease.start();
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The URL clients use: the advertise address when bound to all interfaces. */
  get address(): string {
    const host =
      this.options.bindAddress === '0.0.0.0' || this.options.bindAddress === '::'
        ? this.options.advertiseAddress
        : this.options.bindAddress;
    return `https://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Stops accepting, ends watches and streams, waits for in-flight requests (bounded), stops background work. */
  async close(): Promise<void> {
    if (this.#shutdown.signal.aborted) return;
    this.#shutdown.abort();
    await this.#identityLease?.stop(true);
    this.#stopCompaction();
    for (const s of this.stores.values()) s.cacher.stop();
    this.#watchMux.close();
    this.egress.close();
    // Watches and streams end with the shutdown signal; idle keep-alive connections are closed after a grace period.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.#sockets) s.destroy();
      }, 2000);
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** A request's info until withRequestInfo resolves it (the chain's first filter). */
const unresolvedRequestInfo = Object.freeze(resolveRequestInfo('GET', new URL('https://apiserver/')));

/** The reason of every request's signal: one AbortError for all (abort() without one builds a DOMException per request). */
const requestEnded = new DOMException('the request ended', 'AbortError');

function unlimitedListeners(c: AbortController): AbortController {
  setMaxListeners(0, c.signal);
  return c;
}
