// The streaming and proxy subresources (upstream pkg/registry/core/{pod,node,service}/rest, streaming.md §2):
// pods/log, pods/exec, pods/attach, pods/portforward, pods/proxy, nodes/proxy, services/proxy. The chain has
// already authenticated and authorized the caller when these run, and nothing is dialled before that; every dial
// goes through the egress dialer of the `cluster` selection.
import type { IncomingMessage } from 'node:http';
import type { Endpoints, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { newBadRequest, newForbidden, newMethodNotSupported } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { Logger } from '../../lib/log.js';
import {
  PORT_FORWARD_TUNNEL_PROTOCOL,
  headerValues,
  kubeletRemoteCommandQuery,
  parseRemoteCommandOptions,
  upgradeKind,
  type RemoteCommandOptions,
} from '../../streams/index.js';
import type { Authorizer } from '../authz/interface.js';
import { forbiddenMessage } from '../authz/interface.js';
import type { RequestContext, Request, Response } from '../context.js';
import type { EgressSelector } from '../egress/dialer.js';
import { joinHostPort } from '../egress/dialer.js';
import { nodeAddress } from '../egress/node-address.js';
import { attributesFor } from '../filters/authorization.js';
import type { Subresources } from '../registry/subresources.js';
import { dialBackend, type TLSClientConfig } from './backend.js';
import {
  checkContainerLogStatus,
  invalidRequest,
  podContainer,
  podProxyTarget,
  serviceProxyTarget,
  splitSchemeNamePort,
  type ProxyTarget,
} from './location.js';
import { relayRequest, relayUpgrade, type Backend, type UpgradeRelayOptions } from './relay.js';
import { translateRemoteCommand, tunnelPortForward, type Translation } from './translate.js';

export interface ProxyConfig {
  egress: EgressSelector;
  /** The API server's client identity toward kubelets and the CA their serving certificates must chain to. */
  kubeletTLS: TLSClientConfig;
  /** Node address types in preference order (--kubelet-preferred-address-types). */
  preferredAddressTypes: readonly string[];
  /** CA for `https:` pods/services proxying (--proxy-ca-file; default the cluster CA). */
  proxyCA: string;
  /** A backend that does not connect (and finish TLS) within this is a 503/504. */
  dialTimeoutMs: number;
  /** Pods on 127.0.0.1 (host network on a single-host cluster) may be proxied to. */
  allowLoopbackPods: boolean;
  authorizer: Authorizer;
  get(kind: 'nodes' | 'services' | 'endpoints', namespace: string, name: string): Promise<KubeObject>;
  log: Logger;
}

const proxyMethods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** The rest of a proxy path (`/api/v1/nodes/n/proxy/stats/summary` → `/stats/summary`) with the query. */
function proxyPath(ctx: RequestContext): string {
  const parts = ctx.requestInfo.parts;
  return `/${parts.map((p) => encodeURIComponent(p)).join('/')}${ctx.url.search}`;
}

export function registerProxySubresources(subresources: Subresources, c: ProxyConfig): void {
  const cluster = (): ReturnType<EgressSelector['lookup']> => c.egress.lookup('cluster');

  const kubelet = async (
    ctx: RequestContext,
    nodeName: string,
    insecure = false
  ): Promise<Backend & { hop: string }> => {
    const node = (await c.get('nodes', '', nodeName)) as Node;
    const { host, port } = nodeAddress(node, c.preferredAddressTypes);
    const hop = `kubelet of node "${nodeName}"`;
    const socket = await dialBackend({
      dialer: cluster(),
      hop,
      host,
      port,
      tls: insecure ? { ...c.kubeletTLS, insecureSkipVerify: true } : c.kubeletTLS,
      timeoutMs: c.dialTimeoutMs,
      signal: ctx.signal,
      log: c.log,
    });
    return { socket, host: joinHostPort(host, port), path: '/', hop };
  };

  const target = async (ctx: RequestContext, t: ProxyTarget, hop: string): Promise<Backend> => {
    const socket = await dialBackend({
      dialer: cluster(),
      hop,
      host: t.host,
      port: t.port,
      tls: t.scheme === 'https' ? { ca: c.proxyCA } : undefined,
      timeoutMs: c.dialTimeoutMs,
      signal: ctx.signal,
      log: c.log,
    });
    return { socket, host: joinHostPort(t.host, t.port), path: proxyPath(ctx) };
  };

  // A redirect from the backend is pointed back through the subresource (upstream's wrapTransport).
  const serveProxy = async (ctx: RequestContext, req: Request, res: Response, open: () => Promise<Backend>) => {
    if (!proxyMethods.has(req.method ?? ''))
      throw newMethodNotSupported({ group: '', resource: ctx.requestInfo.resource }, req.method ?? '');
    const prefix = ctx.url.pathname.slice(0, ctx.url.pathname.indexOf('/proxy') + '/proxy'.length);
    if (
      ctx.requestInfo.parts.length === 0 &&
      !ctx.url.pathname.endsWith('/') &&
      (req.method === 'GET' || req.method === 'HEAD')
    ) {
      ctx.statusCode = 301;
      res.writeHead(301, { location: `${ctx.url.pathname}/${ctx.url.search}` });
      res.end();
      return;
    }
    const backend = await open();
    if (ctx.upgrade) return relayUpgrade(ctx, req, backend);
    return relayRequest(ctx, req, res, backend, {
      rewriteLocation: (loc) => {
        try {
          const u = new URL(loc);
          return u.host === backend.host ? `${prefix}${u.pathname}${u.search}` : loc;
        } catch {
          return loc;
        }
      },
    });
  };

  subresources.register('', 'nodes', 'proxy', async (ctx, req, res) => {
    const id = splitSchemeNamePort(ctx.requestInfo.name);
    if (!id) throw invalidRequest('node', ctx.requestInfo.name);
    return serveProxy(ctx, req, res, async () => {
      const node = (await c.get('nodes', '', id.name)) as Node;
      const addr = nodeAddress(node, c.preferredAddressTypes);
      // The kubelet's own port gets the kubelet transport (client certificate, verified); any other node port is
      // a plain backend without the API server's credentials.
      if (id.port === '' || Number(id.port) === addr.port) {
        const k = await kubelet(ctx, id.name);
        return { ...k, path: proxyPath(ctx) };
      }
      return target(ctx, { scheme: id.scheme || 'http', host: addr.host, port: Number(id.port) }, `node "${id.name}"`);
    });
  });

  subresources.register('', 'pods', 'proxy', async (ctx, req, res, store) => {
    const id = splitSchemeNamePort(ctx.requestInfo.name);
    if (!id) throw invalidRequest('pod', ctx.requestInfo.name);
    return serveProxy(ctx, req, res, async () => {
      const pod = (await store.get(ctx.requestInfo.namespace, id.name)) as Pod;
      return target(ctx, podProxyTarget(pod, id, c.allowLoopbackPods), `pod "${id.name}"`);
    });
  });

  subresources.register('', 'services', 'proxy', async (ctx, req, res) => {
    const id = splitSchemeNamePort(ctx.requestInfo.name);
    if (!id) throw invalidRequest('service', ctx.requestInfo.name);
    return serveProxy(ctx, req, res, async () => {
      const ns = ctx.requestInfo.namespace;
      const svc = (await c.get('services', ns, id.name)) as Service;
      const eps = (await c.get('endpoints', ns, id.name).catch(() => undefined)) as Endpoints | undefined;
      return target(ctx, serviceProxyTarget(svc, eps, id), `service "${id.name}"`);
    });
  });

  subresources.register('', 'pods', 'log', async (ctx, req, res, store) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw newMethodNotSupported({ group: '', resource: 'pods/log' }, req.method ?? '');
    const q = ctx.url.searchParams;
    const pod = (await store.get(ctx.requestInfo.namespace, ctx.requestInfo.name)) as Pod;
    const container = podContainer(pod, q.get('container'));
    const previous = q.get('previous') === 'true';
    // Not scheduled yet: an empty log, no kubelet call (upstream).
    if (!pod.spec?.nodeName) {
      ctx.statusCode = 200;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    checkContainerLogStatus(pod, container, previous);
    const kq = new URLSearchParams();
    for (const key of ['follow', 'limitBytes', 'previous', 'sinceSeconds', 'sinceTime', 'tailLines', 'timestamps']) {
      const v = q.get(key);
      if (v !== null && v !== '' && v !== 'false') kq.set(key, v);
    }
    const insecure = q.get('insecureSkipTLSVerifyBackend') === 'true';
    const k = await kubelet(ctx, pod.spec.nodeName, insecure);
    const search = kq.size ? `?${kq.toString()}` : '';
    const path = `/containerLogs/${enc(pod.metadata!.namespace!)}/${enc(pod.metadata!.name!)}/${enc(container)}${search}`;
    return relayRequest(ctx, req, res, { ...k, path, method: 'GET' }, { errorsAsStatus: true });
  });

  const streaming = (sub: 'exec' | 'attach' | 'portforward') =>
    subresources.register('', 'pods', sub, async (ctx, req, _res, store) => {
      if (req.method !== 'GET' && req.method !== 'POST')
        throw newMethodNotSupported({ group: '', resource: `pods/${sub}` }, req.method ?? '');
      if (!ctx.upgrade) throw newBadRequest('Upgrade request required');
      // A WebSocket upgrade is a GET, authorized as `get` by the chain; hubspoke also requires `create`, as
      // upstream's AuthorizePodWebsocketUpgradeCreatePermission does, so `get pods/exec` alone cannot run commands.
      if (req.method === 'GET') {
        const attrs = { ...attributesFor(ctx), verb: 'create' };
        const { decision, reason } = await c.authorizer.authorize(attrs);
        if (decision !== 'allow')
          throw newForbidden({ group: '', resource: 'pods' }, ctx.requestInfo.name, forbiddenMessage(attrs, reason));
      }
      const pod = (await store.get(ctx.requestInfo.namespace, ctx.requestInfo.name)) as Pod;
      const ns = enc(pod.metadata!.namespace!);
      const name = enc(pod.metadata!.name!);
      let path: string;
      let options: RemoteCommandOptions | undefined;
      if (sub === 'portforward') {
        const ports = ctx.url.searchParams.getAll('ports').flatMap((p) => p.split(','));
        path = `/portForward/${ns}/${name}${ports.length ? `?port=${ports.join(',')}` : ''}`;
      } else {
        const q = ctx.url.searchParams;
        const container = podContainer(pod, q.get('container'));
        options = parseRemoteCommandOptions(q);
        if (sub === 'exec' && options.command.length === 0)
          throw newBadRequest('you must specify at least one command for the container');
        path = `/${sub}/${ns}/${name}/${enc(container)}?${kubeletRemoteCommandQuery(options).toString()}`;
      }
      if (!pod.spec?.nodeName) throw newBadRequest(`pod ${pod.metadata!.name} does not have a host assigned`);
      const nodeName = pod.spec.nodeName;
      const k = await kubelet(ctx, nodeName);
      // A WebSocket goes to the kubelet as it came; a kubelet that refuses it (SPDY only, as upstream's) gets
      // SPDY from the API server instead (translate.ts).
      const t: Translation = {
        ctx,
        req,
        kubelet: async () => ({ ...(await kubelet(ctx, nodeName)), path }),
        log: c.log,
      };
      let relay: UpgradeRelayOptions = {};
      if (upgradeKind(req as IncomingMessage) === 'websocket') {
        if (options) relay = { onRefused: () => translateRemoteCommand(t, options) };
        else if (headerValues(req as IncomingMessage, 'sec-websocket-protocol').includes(PORT_FORWARD_TUNNEL_PROTOCOL))
          relay = { onRefused: () => tunnelPortForward(t) };
      }
      return relayUpgrade(ctx, req, { ...k, path }, relay);
    });
  streaming('exec');
  streaming('attach');
  streaming('portforward');
}

const enc = encodeURIComponent;
