// Test-only: the smallest HTTPS server real kubectl will exec and port-forward through (streaming.md §7.1) —
// /version, legacy discovery, one Running pod — with the streams served by this library, backed by real child
// processes (`command` as argv) and real TCP connections to 127.0.0.1:<port>. One http2 listener with allowHTTP1,
// as the API server has, so the upgrades arrive on the HTTP/1.1 'upgrade' event.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { StatusError } from '../../api/errors.js';
import { createCA, issueCertificate, kubeconfig } from '../../pki/index.js';
import { UpgradeFailure, dialSpdy, dialSpdyUpgrade } from '../dial.js';
import { acceptPortForward, parsePortForwardPorts, type PortForwardSession } from '../portforward/server.js';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  bridgeRemoteCommand,
  spdyRemoteCommandClient,
} from '../remotecommand/client.js';
import { parseRemoteCommandOptions, type RemoteCommandOptions } from '../remotecommand/options.js';
import { acceptRemoteCommand, type RemoteCommandSession } from '../remotecommand/server.js';
import { execErrorStatus, exitCodeStatus } from '../remotecommand/status.js';
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  headerValues,
  rejectUpgrade,
  upgradeKind,
  writeSpdyUpgradeResponse,
} from '../upgrade.js';
import { acceptWebSocket, webSocketDuplex } from '../websocket.js';

export interface FakeAPIServer {
  url: string;
  caPem: string;
  kubeconfigPath: string;
  /** Upgrades seen, e.g. `spdy exec v4.channel.k8s.io`, for asserting which protocol a kubectl used. */
  upgrades: string[];
  /** Port-forward dial failures seen. */
  dialErrors: { port: number; message: string }[];
  close(): Promise<void>;
}

const POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'mypod', namespace: 'default', uid: '6f0c7d5e-0000-4000-8000-000000000001' },
  spec: { nodeName: 'node1', containers: [{ name: 'main', image: 'host' }] },
  status: { phase: 'Running' },
};

const API_V1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    {
      name: 'pods/portforward',
      singularName: '',
      namespaced: true,
      kind: 'PodPortForwardOptions',
      verbs: ['create', 'get'],
    },
  ],
};

function json(res: Http2ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function route(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const url = new URL(req.url, 'https://x');
  switch (url.pathname) {
    case '/version':
      return json(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' });
    case '/api':
      return json(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
      });
    case '/apis':
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    case '/api/v1':
      return json(res, 200, API_V1);
    case '/api/v1/namespaces/default/pods/mypod':
      return json(res, 200, POD);
    default: {
      const status = /\/(exec|attach|portforward)$/.test(url.pathname)
        ? new StatusError(400, 'BadRequest', 'Upgrade request required').status
        : new StatusError(404, 'NotFound', `${url.pathname} not found`).status;
      return json(res, status.code, status);
    }
  }
}

/** Runs argv as a child process behind the session; the exit code travels in the Status. */
export function runCommand(session: RemoteCommandSession, argv: string[]): void {
  const [file, ...args] = argv;
  if (!file) {
    void session.end(execErrorStatus('no command given'));
    return;
  }
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined); // the process may exit before reading all of stdin
  if (session.stdin) session.stdin.pipe(child.stdin);
  else child.stdin.end();
  if (session.stdout) child.stdout.pipe(session.stdout);
  else child.stdout.resume();
  if (session.stderr) child.stderr.pipe(session.stderr);
  else child.stderr.resume();
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.on('close', (code, signal) => {
    if (spawnError) void session.end(execErrorStatus(spawnError.message));
    else void session.end(exitCodeStatus(code ?? 128 + (signal ? 9 : 0), argv));
  });
  session.on('close', () => child.kill('SIGKILL'));
}

export function dialLocal(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Where a relaying server sends streams: another server (a kubelet stand-in) and the CA it is verified with. */
export interface RelayTarget {
  url: string;
  caPem: string;
}

/** What the API server does for exec toward a kubelet: terminate kubectl's session, speak SPDY behind it. */
async function relayExec(
  session: RemoteCommandSession,
  options: RemoteCommandOptions,
  target: URL,
  ca: string
): Promise<void> {
  try {
    const { connection, protocol } = await dialSpdy(target, CLIENT_REMOTE_COMMAND_PROTOCOLS, { tls: { ca } });
    await bridgeRemoteCommand(session, await spdyRemoteCommandClient(connection, protocol, options));
  } catch (err) {
    await session.end(err instanceof UpgradeFailure && err.status ? err.status : execErrorStatus(String(err)));
  }
}

/** Port-forward toward a kubelet: always SPDY there; kubectl's WebSocket tunnel is unwrapped into it byte for byte. */
async function relayPortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: URL,
  ca: string
): Promise<void> {
  const tunnel =
    upgradeKind(req) === 'websocket' &&
    headerValues(req, 'sec-websocket-protocol').includes(PORT_FORWARD_TUNNEL_PROTOCOL);
  const backend = await dialSpdyUpgrade(target, [PORT_FORWARD_PROTOCOL], { tls: { ca } }).catch((err: unknown) => {
    rejectUpgrade(
      socket,
      err instanceof UpgradeFailure && err.status ? err.status : new StatusError(502, 'InternalError', String(err))
    );
    return undefined;
  });
  if (!backend) return;
  let client: Duplex;
  if (tunnel) {
    const accepted = await acceptWebSocket(req, socket, head, [PORT_FORWARD_TUNNEL_PROTOCOL]);
    if (!accepted) return void backend.socket.destroy();
    client = webSocketDuplex(accepted.ws);
  } else {
    writeSpdyUpgradeResponse(socket, backend.protocol);
    client = socket;
    if (head.length) backend.socket.write(head);
  }
  if (backend.head.length) client.write(backend.head);
  client.pipe(backend.socket);
  backend.socket.pipe(client);
  client.on('close', () => backend.socket.destroy());
  backend.socket.on('close', () => client.destroy());
  backend.socket.on('error', () => backend.socket.destroy());
}

/**
 * Starts the server. With `relayTo`, exec and port-forward are not served here but relayed to that server as
 * the API server relays them to a kubelet (WebSocket exec bridged to SPDY, the port-forward tunnel unwrapped).
 */
export async function startFakeAPIServer(relayTo?: RelayTarget): Promise<FakeAPIServer> {
  const ca = await createCA({ commonName: 'fake-ca' });
  const serving = await issueCertificate({
    ca,
    commonName: 'fake-apiserver',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  const client = await issueCertificate({
    ca,
    commonName: 'tester',
    organizations: ['system:masters'],
    usages: ['client'],
    validityMs: 3600_000,
  });
  const upgrades: string[] = [];
  const dialErrors: { port: number; message: string }[] = [];
  const sessions = new Set<RemoteCommandSession | PortForwardSession>();
  const sockets = new Set<Duplex>();
  const server = createSecureServer({ allowHTTP1: true, key: serving.key, cert: serving.cert }, route);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://x');
    const kind = (req.headers.upgrade ?? '').toLowerCase().includes('spdy') ? 'spdy' : 'websocket';
    void (async () => {
      try {
        const backend = relayTo && new URL(req.url ?? '/', relayTo.url);
        if (url.pathname.endsWith('/portforward')) {
          upgrades.push(
            `${kind} portforward ${req.headers['sec-websocket-protocol'] ?? req.headers['x-stream-protocol-version']}`
          );
          if (backend) return await relayPortForward(req, socket, head, backend, relayTo.caPem);
          const session = await acceptPortForward(req, socket, head, {
            dial: dialLocal,
            ports: parsePortForwardPorts(url.searchParams),
            onDialError: (port, err) => dialErrors.push({ port, message: err.message }),
          });
          if (session) {
            sessions.add(session);
            session.once('close', () => sessions.delete(session));
          }
          return;
        }
        if (url.pathname.endsWith('/exec')) {
          const options = parseRemoteCommandOptions(url.searchParams);
          const session = await acceptRemoteCommand(req, socket, head, options);
          if (!session) return;
          upgrades.push(`${session.transport} exec ${session.protocol}`);
          sessions.add(session);
          session.once('close', () => sessions.delete(session));
          if (backend) await relayExec(session, options, backend, relayTo.caPem);
          else runCommand(session, options.command);
          return;
        }
        rejectUpgrade(socket, new StatusError(404, 'NotFound', `${url.pathname} not found`));
      } catch (err) {
        rejectUpgrade(socket, err instanceof StatusError ? err : new StatusError(500, 'InternalError', String(err)));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'hubspoke-streams-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    kubeconfig({ server: url, caPem: ca.cert, clientCertPem: client.cert, clientKeyPem: client.key }),
    { mode: 0o600 }
  );
  return {
    url,
    caPem: ca.cert,
    kubeconfigPath,
    upgrades,
    dialErrors,
    close: async () => {
      for (const s of sessions)
        if ('destroy' in s) s.destroy();
        else s.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
