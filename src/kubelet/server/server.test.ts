// The kubelet's streaming routes with a TTY, called directly against a real control plane and real bubblewrap
// pods: exec on a pseudo-terminal over WebSocket v5 and SPDY (a prompt, the echo, `stty size` before and after a
// resize, the exit code), `/attach` to a stdin container and to a TTY container, `/run`; and `/logs/` (listing,
// file, nodes/log authorization) on a server of its own with a temporary log directory.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../lib/kube-client.js';
import { silentLogger } from '../../lib/log.js';
import { issueCertificate, type CertKeyPair } from '../../pki/index.js';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  RemoteCommandProtocol,
  dialSpdy,
  dialWebSocket,
  exitCodeOf,
  kubeletRemoteCommandQuery,
  spdyRemoteCommandClient,
  webSocketRemoteCommandClient,
  type RemoteCommandClient,
  type RemoteCommandOptions,
} from '../../streams/index.js';
import { adminClient, eventually } from '../../../test/framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../../../test/framework/control-plane.js';
import { startTestKubelet, type TestKubelet } from '../../../test/framework/kubelet.js';
import { KubeletServer } from './server.js';

const cleanups: (() => Promise<void> | void)[] = [];
const hook = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

let cp: TestControlPlane;
let tk: TestKubelet;
let admin: KubeClient;
let base: string;
let serving: CertKeyPair;
// The API server's kind of identity: system:masters may do anything on nodes/*.
const tls = (): ConnectionOptions => ({
  ca: cp.server.pki.ca.cert,
  cert: cp.server.pki.admin.cert,
  key: cp.server.pki.admin.key,
});

function call(
  url: string,
  o: { method?: string; tls?: ConnectionOptions } = {}
): Promise<{ code: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, method: o.method ?? 'GET', ...(o.tls ?? tls()) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          code: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          type: res.headers['content-type'],
        })
      );
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  cp = await startTestControlPlane(hook);
  admin = adminClient(cp);
  cleanups.push(() => admin.close());
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubelet-tty-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  serving = await issueCertificate({
    ca: cp.server.pki.ca,
    commonName: 'system:node:node-1',
    organizations: ['system:nodes'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  await writeFile(join(dir, 'kubelet.crt'), serving.cert);
  await writeFile(join(dir, 'kubelet.key'), serving.key);
  tk = await startTestKubelet(hook, cp, {
    config: { tlsCertFile: join(dir, 'kubelet.crt'), tlsPrivateKeyFile: join(dir, 'kubelet.key') },
  });
  base = `https://127.0.0.1:${tk.kubelet.server.port}`;
  await eventually('the pod is created', () =>
    admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'term' },
      spec: {
        nodeName: tk.nodeName,
        containers: [
          { name: 'main', image: 'host', command: ['sleep', '1000'] },
          {
            name: 'in',
            image: 'host',
            stdin: true,
            command: ['/bin/sh', '-c', 'while read l; do echo "got $l"; echo "err $l" >&2; done'],
          },
          { name: 'tty', image: 'host', stdin: true, tty: true, command: ['/bin/sh'] },
        ],
      },
    })
  );
  await eventually(
    'the pod to run',
    async () => {
      const p = await admin.get<any>('/api/v1/namespaces/default/pods/term');
      return p.status?.containerStatuses?.length === 3 && p.status.containerStatuses.every((c: any) => c.state?.running)
        ? p
        : undefined;
    },
    20_000
  );
});

const ttyOpts = (command: string[]): RemoteCommandOptions => ({
  stdin: true,
  stdout: true,
  stderr: false,
  tty: true,
  command,
});
const path = (kind: 'exec' | 'attach', container: string, o: RemoteCommandOptions): string =>
  `${base}/${kind}/default/term/${container}?${kubeletRemoteCommandQuery(o).toString()}`;

async function open(
  transport: 'websocket' | 'spdy',
  url: string,
  o: RemoteCommandOptions
): Promise<RemoteCommandClient> {
  if (transport === 'websocket') {
    const { ws, protocol } = await dialWebSocket(url, [RemoteCommandProtocol.V5], { tls: tls() });
    assert.equal(protocol, RemoteCommandProtocol.V5);
    return webSocketRemoteCommandClient(ws, protocol, o);
  }
  const { connection, protocol } = await dialSpdy(url, CLIENT_REMOTE_COMMAND_PROTOCOLS, { tls: tls() });
  assert.equal(protocol, RemoteCommandProtocol.V4);
  return spdyRemoteCommandClient(connection, protocol, o);
}

/** Everything a readable gives, as it arrives. */
function reader(r: Readable | null): () => string {
  let text = '';
  r?.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

/** Waits for `re` in what `read` gives (a terminal answers in pieces). */
async function expectOutput(read: () => string, re: RegExp, what: string): Promise<void> {
  await eventually(what, async () => (re.test(read()) ? true : undefined), 10_000).catch(() => undefined);
  assert.match(read(), re, what);
}

describe('kubelet server with a TTY', () => {
  for (const transport of ['websocket', 'spdy'] as const) {
    it(`runs exec -t over ${transport}: a prompt, the echo, stty size before and after a resize, the exit code`, async () => {
      const o = ttyOpts(['/bin/sh']);
      const client = await open(transport, path('exec', 'main', o), o);
      assert.equal(client.stderr, null, 'a terminal has one output');
      client.resize({ width: 101, height: 31 });
      const out = reader(client.stdout);
      await expectOutput(out, /# $/, 'a root prompt');
      client.stdin!.write('echo hello-$((6*7)); stty size\r');
      await expectOutput(
        out,
        /echo hello-\$\(\(6\*7\)\); stty size\r\nhello-42\r\n31 101\r\n/,
        'the echo, then the size'
      );
      client.resize({ width: 72, height: 19 });
      // Ctrl-C interrupts the foreground job, not the shell; the resize is seen by the next command.
      client.stdin!.write('sleep 100\r');
      await expectOutput(out, /sleep 100\r\n$/, 'sleep runs');
      client.stdin!.write('\x03');
      await expectOutput(out, /\^C\r\n# $/, 'interrupted, back at the prompt');
      client.stdin!.write('stty size; exit 5\r');
      await expectOutput(out, /# stty size; exit 5\r\n19 72\r\n/, 'the new size');
      const status = await client.status;
      assert.equal(exitCodeOf(status), 5, status.message);
      client.close();
    });
  }

  it('reports a program exec -t cannot run on the error channel (127), not on the terminal', async () => {
    const o = ttyOpts(['no-such-program']);
    const client = await open('websocket', path('exec', 'main', o), o);
    const out = reader(client.stdout);
    const status = await client.status;
    assert.equal(exitCodeOf(status), 127);
    assert.match(status.message ?? '', /exec: "no-such-program": executable file not found in \$PATH/);
    assert.equal(out(), '');
    client.close();
  });

  it('hangs up the terminal when the client leaves: the command gets SIGHUP', async () => {
    const o = ttyOpts(['sleep', '4321']);
    const client = await open('websocket', path('exec', 'main', o), o);
    const running = async (): Promise<string> => {
      const q: RemoteCommandOptions = {
        stdin: false,
        stdout: true,
        stderr: false,
        tty: false,
        command: ['sh', '-c', 'cat /proc/[0-9]*/cmdline | tr "\\0" " "'],
      };
      const c = await open('spdy', path('exec', 'main', q), q);
      const out = reader(c.stdout);
      await c.status;
      c.close();
      return out();
    };
    await eventually('sleep 4321 runs', async () => ((await running()).includes('sleep 4321') ? true : undefined));
    client.close();
    await eventually('sleep 4321 is gone', async () => ((await running()).includes('sleep 4321') ? undefined : true));
  });

  it('attaches to a stdin container over SPDY: stdin in, stdout and stderr out', async () => {
    const o: RemoteCommandOptions = { stdin: true, stdout: true, stderr: true, tty: false, command: [] };
    const client = await open('spdy', path('attach', 'in', o), o);
    const [out, err] = [reader(client.stdout), reader(client.stderr)];
    client.stdin!.write('one\n');
    await expectOutput(out, /^got one\n$/, 'stdout');
    await expectOutput(err, /^err one\n$/, 'stderr');
    client.close();
  });

  it("attaches -t to a TTY container over WebSocket: the shim's terminal, resized", async () => {
    const o = ttyOpts([]);
    const client = await open('websocket', path('attach', 'tty', o), o);
    const out = reader(client.stdout);
    // kubectl sends a size one larger first, to make the program redraw, then the real one.
    client.resize({ width: 61, height: 16 });
    client.resize({ width: 60, height: 15 });
    client.stdin!.write('echo pid $$; stty size\r');
    await expectOutput(out, /pid 1\r\n15 60\r\n/, 'the container shell (pid 1) sees the size');
    client.close();
    // A second attach finds the same shell, still running.
    const again = await open('spdy', path('attach', 'tty', o), o);
    const out2 = reader(again.stdout);
    again.resize({ width: 90, height: 25 });
    again.stdin!.write('stty size\r');
    await expectOutput(out2, /25 90\r\n/, 'the second attach resizes it too');
    again.close();
  });

  it('answers /run (POST) with the command output, and a non-upgrade /attach with 400', async () => {
    const r = await call(`${base}/run/default/term/main?cmd=${encodeURIComponent('sh -c hostname')}`, {
      method: 'POST',
    });
    assert.deepEqual([r.code, r.body], [200, 'term\n']);
    assert.equal((await call(`${base}/run/default/term/main?cmd=true`)).code, 405, 'GET /run');
    const missing = await call(`${base}/run/default/term/nope?cmd=true`, { method: 'POST' });
    assert.equal(missing.code, 404);
    const plain = await call(`${base}/attach/default/term/in?output=1`);
    assert.equal(plain.code, 400);
    assert.match(JSON.parse(plain.body).message, /Upgrade request required/);
  });
});

describe('kubelet server /logs/', () => {
  it('lists the node log directory and serves a file, to users with nodes/log only', async () => {
    const top = await mkdtemp(join(tmpdir(), 'hubspoke-node-logs-'));
    cleanups.push(() => rm(top, { recursive: true, force: true }));
    const logDir = join(top, 'log');
    await mkdir(logDir);
    await writeFile(join(top, 'secret'), 'not a log');
    await mkdir(join(logDir, 'pods'));
    await writeFile(join(logDir, 'syslog'), 'line one\nline two\n');
    await writeFile(join(logDir, 'a<b'), 'x');
    const server = await KubeletServer.start(
      {
        nodeName: 'logs-node',
        anonymousAuth: false,
        webhookAuthentication: true,
        authenticationCacheTTLMs: 0,
        authorizationMode: 'Webhook',
        authorizedCacheTTLMs: 0,
        unauthorizedCacheTTLMs: 0,
        address: '127.0.0.1',
        port: 0,
        clientCAPem: cp.server.pki.ca.cert,
        tlsMinVersion: 'VersionTLS12',
        tlsCipherSuites: [],
        streamingConnectionIdleTimeoutMs: 60_000,
        logDir,
      },
      admin,
      silentLogger,
      { certPem: serving.cert, keyPem: serving.key }
    );
    cleanups.push(() => server.close());
    const url = `https://127.0.0.1:${server.port}`;
    // log-reader may get nodes/log; proxy-user only nodes/proxy.
    for (const [user, sub] of [
      ['log-reader', 'nodes/log'],
      ['proxy-user', 'nodes/proxy'],
    ] as const) {
      await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `test:${user}` },
        rules: [{ apiGroups: [''], resources: [sub], verbs: ['get'] }],
      });
      await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `test:${user}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `test:${user}` },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
      });
    }
    const as = async (user: string): Promise<ConnectionOptions> => {
      const c = await issueCertificate({
        ca: cp.server.pki.ca,
        commonName: user,
        usages: ['client'],
        validityMs: 3600_000,
      });
      return { ca: cp.server.pki.ca.cert, cert: c.cert, key: c.key };
    };
    const reader = await as('log-reader');
    const listing = await call(`${url}/logs/`, { tls: reader });
    assert.equal(listing.code, 200);
    assert.match(listing.type ?? '', /^text\/html/);
    assert.equal(
      listing.body,
      '<pre>\n<a href="a%3Cb">a&lt;b</a>\n<a href="pods/">pods/</a>\n<a href="syslog">syslog</a>\n</pre>\n'
    );
    const file = await call(`${url}/logs/syslog`, { tls: reader });
    assert.deepEqual([file.code, file.body], [200, 'line one\nline two\n']);
    const sub = await call(`${url}/logs/pods`, { tls: reader });
    assert.equal(sub.code, 301, 'a directory without its slash');
    assert.equal((await call(`${url}/logs/nope`, { tls: reader })).code, 404);
    const out = await call(`${url}/logs/..%2fsecret`, { tls: reader });
    assert.equal(out.code, 404, 'a path climbing out stays inside the log directory');
    const denied = await call(`${url}/logs/`, { tls: await as('proxy-user') });
    assert.equal(denied.code, 403);
    assert.equal(denied.body, 'Forbidden (user=proxy-user, verb=get, resource=nodes, subresource(s)=[log])\n');
    assert.equal((await call(`${url}/logs/`, { tls: { ca: cp.server.pki.ca.cert } })).code, 401);
  });
});
