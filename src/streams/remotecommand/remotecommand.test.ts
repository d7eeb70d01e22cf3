// Exec over every transport with this library on both ends, backed by real processes: exit codes in the Status,
// stdin with EOF, stderr, resizes, refusals, and the API server's bridge (WebSocket in front, SPDY behind).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import type { UpgradeFailure } from '../dial.js';
import { dialSpdy, dialWebSocket } from '../dial.js';
import { runCommand } from '../testdata/fake-apiserver.js';
import { RemoteCommandProtocol } from '../upgrade.js';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  bridgeRemoteCommand,
  spdyRemoteCommandClient,
  webSocketRemoteCommandClient,
  type RemoteCommandClient,
} from './client.js';
import { kubeletRemoteCommandQuery, parseRemoteCommandOptions, type RemoteCommandOptions } from './options.js';
import {
  acceptRemoteCommand,
  type RemoteCommandServerOptions,
  type RemoteCommandSession,
  type TerminalSize,
} from './server.js';
import { decodeErrorChannel, encodeErrorChannel, execErrorStatus, exitCodeOf, exitCodeStatus } from './status.js';

type Handler = (session: RemoteCommandSession, options: RemoteCommandOptions) => void;

/** A plain-HTTP server on loopback that accepts exec upgrades and runs `handler` on each session. */
async function execServer(
  t: TestContext,
  handler: Handler = (s, o) => runCommand(s, o.command),
  serverOptions: RemoteCommandServerOptions = {}
): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(400).end());
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    const options = parseRemoteCommandOptions(new URL(req.url!, 'http://x').searchParams);
    void acceptRemoteCommand(req, socket, head, options, serverOptions).then((s) => s && handler(s, options));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function query(options: Partial<RemoteCommandOptions> & { command: string[] }): string {
  const full: RemoteCommandOptions = { stdin: false, stdout: true, stderr: true, tty: false, ...options };
  return `/exec/ns/pod/c?${kubeletRemoteCommandQuery(full).toString()}`;
}

async function spdyClient(base: string, options: RemoteCommandOptions): Promise<RemoteCommandClient> {
  const { connection, protocol } = await dialSpdy(base + query(options), CLIENT_REMOTE_COMMAND_PROTOCOLS);
  return spdyRemoteCommandClient(connection, protocol, options);
}

async function wsClient(
  base: string,
  options: RemoteCommandOptions,
  protocols: string[]
): Promise<RemoteCommandClient> {
  const { ws, protocol } = await dialWebSocket(base + query(options), protocols);
  return webSocketRemoteCommandClient(ws, protocol, options);
}

async function collect(r: Readable | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (r) for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const opts = (command: string[], more: Partial<RemoteCommandOptions> = {}): RemoteCommandOptions => ({
  stdin: false,
  stdout: true,
  stderr: true,
  tty: false,
  command,
  ...more,
});

const transports: [string, (base: string, o: RemoteCommandOptions) => Promise<RemoteCommandClient>][] = [
  ['SPDY', spdyClient],
  ['WebSocket v5', (b, o) => wsClient(b, o, [RemoteCommandProtocol.V5])],
  ['WebSocket v4.base64', (b, o) => wsClient(b, o, [RemoteCommandProtocol.V4Base64])],
];

for (const [name, connect] of transports) {
  test(`${name}: stdout, stderr and exit code 3 in the Status`, async (t) => {
    const base = await execServer(t);
    const c = await connect(base, opts(['sh', '-c', 'echo hi; echo oops >&2; exit 3']));
    const [out, err, status] = await Promise.all([collect(c.stdout), collect(c.stderr), c.status]);
    assert.equal(out.toString(), 'hi\n');
    assert.equal(err.toString(), 'oops\n');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(exitCodeOf(status), 3);
  });

  test(`${name}: a successful command ends with a Success Status`, async (t) => {
    const base = await execServer(t);
    const c = await connect(base, opts(['true']));
    await Promise.all([collect(c.stdout), collect(c.stderr)]);
    assert.equal(exitCodeOf(await c.status), 0);
  });
}

for (const [name, connect] of transports.slice(0, 2)) {
  test(`${name}: 3 MiB of binary stdin round-trips through cat and EOF reaches the process`, async (t) => {
    const base = await execServer(t);
    const c = await connect(base, opts(['cat'], { stdin: true, stderr: false }));
    const data = randomBytes(3 * 1024 * 1024);
    c.stdin!.end(data);
    const out = await collect(c.stdout);
    assert.equal(createHash('sha256').update(out).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.equal(exitCodeOf(await c.status), 0);
  });

  test(`${name}: terminal sizes reach the session`, async (t) => {
    const sizes: TerminalSize[] = [];
    const base = await execServer(t, (s) => {
      s.on('resize', (size) => {
        sizes.push(size);
        if (sizes.length === 2) void s.end();
      });
    });
    const c = await connect(base, opts(['sh'], { stdin: true, tty: true }));
    c.resize({ width: 121, height: 41 });
    c.resize({ width: 120, height: 40 });
    await collect(c.stdout);
    await c.status;
    assert.deepEqual(sizes, [
      { width: 121, height: 41 },
      { width: 120, height: 40 },
    ]);
  });
}

test('a failure to run the command is an InternalError Status', async (t) => {
  const base = await execServer(t);
  const c = await spdyClient(base, opts(['/nonexistent/program']));
  await Promise.all([collect(c.stdout), collect(c.stderr)]);
  const status = await c.status;
  assert.equal(status.reason, 'InternalError');
  assert.match(status.message!, /error executing command in container: .*ENOENT/);
  assert.equal(exitCodeOf(status), undefined);
});

test('refused upgrades carry a Status: no protocol header 400, no common protocol 403, no WS subprotocol 400', async (t) => {
  const base = await execServer(t);
  const url = base + query({ command: ['true'] });
  await assert.rejects(
    dialSpdy(url, []),
    (e: UpgradeFailure) => e.statusCode === 400 && /X-Stream-Protocol-Version is required/.test(e.message)
  );
  await assert.rejects(
    dialSpdy(url, ['v9.channel.k8s.io']),
    (e: UpgradeFailure) => e.statusCode === 403 && e.status?.reason === 'Forbidden'
  );
  await assert.rejects(dialWebSocket(url, ['v9.channel.k8s.io']), (e: UpgradeFailure) => e.statusCode === 400);
  const plain = await fetch(url);
  assert.equal(plain.status, 400);
});

test('SPDY answers v4 when the client offers v5 first (no v5 on SPDY, as the kubelet)', async (t) => {
  const base = await execServer(t);
  const { connection, protocol } = await dialSpdy(base + query({ command: ['true'] }), CLIENT_REMOTE_COMMAND_PROTOCOLS);
  assert.equal(protocol, RemoteCommandProtocol.V4);
  connection.destroy();
});

test('bridge: a WebSocket v5 session in front, SPDY to the backend; stdin, output and the exit code all pass', async (t) => {
  const backend = await execServer(t);
  const front = await execServer(t, (session, options) => {
    void spdyClient(backend, options).then((client) => bridgeRemoteCommand(session, client));
  });
  const c = await wsClient(front, opts(['sh', '-c', 'cat; echo done >&2; exit 7'], { stdin: true }), [
    RemoteCommandProtocol.V5,
  ]);
  c.stdin!.end('through the bridge\n');
  const [out, err, status] = await Promise.all([collect(c.stdout), collect(c.stderr), c.status]);
  assert.equal(out.toString(), 'through the bridge\n');
  assert.equal(err.toString(), 'done\n');
  assert.equal(exitCodeOf(status), 7);
});

test('options: both query spellings; a TTY drops stderr; none of stdin/stdout/stderr is a 400', () => {
  const pub = parseRemoteCommandOptions(
    new URLSearchParams('command=ls&command=-l&stdin=true&stdout=true&stderr=true&tty=true')
  );
  assert.deepEqual(pub, { stdin: true, stdout: true, stderr: false, tty: true, command: ['ls', '-l'] });
  const legacy = parseRemoteCommandOptions(new URLSearchParams('command=ls&error=1&input=1&output=1'));
  assert.deepEqual(legacy, { stdin: true, stdout: true, stderr: true, tty: false, command: ['ls'] });
  assert.equal(kubeletRemoteCommandQuery(legacy).toString(), 'command=ls&error=1&input=1&output=1');
  assert.throws(
    () => parseRemoteCommandOptions(new URLSearchParams('command=ls')),
    /at least 1 of stdin, stdout, stderr/
  );
});

test('error channel: the kubelet shapes for v4; plain text before v4; decoding as client-go', () => {
  const s = exitCodeStatus(3, ['sh', '-c', 'exit 3']);
  assert.equal(
    encodeErrorChannel(s, RemoteCommandProtocol.V4)!.toString(),
    '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
  );
  assert.equal(
    encodeErrorChannel(exitCodeStatus(0), RemoteCommandProtocol.V4)!.toString(),
    '{"metadata":{},"status":"Success"}'
  );
  assert.equal(encodeErrorChannel(exitCodeStatus(0), RemoteCommandProtocol.V2), undefined);
  assert.match(encodeErrorChannel(execErrorStatus('boom'), RemoteCommandProtocol.V2)!.toString(), /boom/);
  assert.equal(execErrorStatus('boom').code, 500);
  assert.equal(decodeErrorChannel(Buffer.alloc(0), RemoteCommandProtocol.V4).status, 'Success');
  assert.equal(
    exitCodeOf(decodeErrorChannel(encodeErrorChannel(s, RemoteCommandProtocol.V5)!, RemoteCommandProtocol.V5)),
    3
  );
  assert.match(decodeErrorChannel(Buffer.from('{'), RemoteCommandProtocol.V4).message!, /protocol error/);
});

test('the idle timeout closes a session that carries nothing', async (t) => {
  const base = await execServer(t, () => undefined, { idleTimeoutMs: 200 });
  const { ws } = await dialWebSocket(base + query({ command: ['sleep', '60'] }), [RemoteCommandProtocol.V5]);
  ws.resume();
  const started = Date.now();
  await once(ws, 'close');
  assert.ok(Date.now() - started < 3000);
});
