// SSHDialer against real OpenSSH servers on loopback addresses (one per node, 127.0.0.x): one connection per node
// carries every dial as a direct-tcpip channel; pins are enforced (mismatch, none, known_hosts); a refused key
// and a missing sshd fail quickly and name the node; a killed and restarted sshd serves the next dial.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { test, type TestContext } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../../../api/errors.js';
import { silentLogger } from '../../../lib/log.js';
import { sshHostKeyAnnotation, sshPortAnnotation } from '../../../pki/index.js';
import { eventually } from '../../../../test/framework/api.js';
import { sshKeyPair, startSshd, type SSHKeyPair, type TestSshd } from '../../../../test/framework/sshd.js';
import { SSHDialer } from './dialer.js';
import { KnownHosts } from './known-hosts.js';

const user = 'root';

async function echoServer(t: TestContext, host: string): Promise<number> {
  const s: Server = createServer((c) => c.pipe(c));
  await new Promise<void>((r) => s.listen(0, host, r));
  t.after(() => void s.close());
  return (s.address() as AddressInfo).port;
}

function node(name: string, address: string, annotations: Record<string, string>): Node {
  return {
    metadata: { name, annotations },
    status: { addresses: [{ type: 'InternalIP', address }] },
  };
}

const pinned = (sshd: TestSshd, fingerprint = sshd.hostKey.fingerprint): Record<string, string> => ({
  [sshHostKeyAnnotation]: fingerprint,
  [sshPortAnnotation]: String(sshd.port),
});

async function roundTrip(d: SSHDialer, address: string): Promise<string> {
  const c: Duplex = await d.dial('tcp', address, { timeoutMs: 10_000 });
  const back = new Promise<string>((resolve) => c.once('data', (b: Buffer) => resolve(b.toString())));
  c.write('ping');
  const got = await back;
  c.destroy();
  return got;
}

async function rejection(p: Promise<unknown>): Promise<StatusError> {
  const err = await p.then(
    () => assert.fail('expected the dial to fail'),
    (e: unknown) => e
  );
  assert.ok(err instanceof StatusError, String(err));
  return err;
}

async function setup(t: TestContext): Promise<{ dir: string; client: SSHKeyPair; dialer: (o?: object) => SSHDialer }> {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-ssh-dialer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const client = await sshKeyPair(dir, 'apiserver');
  const dialer = (o: object = {}): SSHDialer => {
    const d = new SSHDialer({
      user,
      privateKey: readFileSync(client.privateKeyFile),
      port: 22,
      preferredAddressTypes: ['InternalIP'],
      connectTimeoutMs: 5000,
      keepaliveIntervalMs: 1000,
      keepaliveCountMax: 3,
      backoffInitialMs: 200,
      backoffMaxMs: 2000,
      log: silentLogger,
      ...o,
    });
    t.after(() => d.close());
    return d;
  };
  return { dir, client, dialer };
}

test('every dial to a node is a channel on its one SSH connection; pod addresses ride any tunnel', async (t) => {
  const { client, dialer } = await setup(t);
  const sshd = await startSshd(t, { address: '127.0.0.2', authorizedKeys: [client.publicKey] });
  const port = await echoServer(t, '127.0.0.2');
  const d = dialer();
  d.upsertNode(node('n1', '127.0.0.2', pinned(sshd)));
  const replies = await Promise.all(Array.from({ length: 5 }, () => roundTrip(d, `127.0.0.2:${port}`)));
  assert.deepEqual(replies, Array(5).fill('ping'));
  assert.deepEqual(d.connected(), ['n1']);
  assert.equal(sshd.log().match(/Accepted publickey/g)?.length, 1, sshd.log());
  // An address no Node has (a pod IP, say) goes through a tunnel that is up, as upstream's random pick.
  const elsewhere = await echoServer(t, '127.0.0.9');
  assert.equal(await roundTrip(d, `127.0.0.9:${elsewhere}`), 'ping');
  // A port nobody listens on at the far end: the channel open fails, quickly, naming the node.
  const closed = await rejection(d.dial('tcp', '127.0.0.2:1', { timeoutMs: 10_000 }));
  assert.equal(closed.code, 503);
  assert.match(closed.message, /node "n1" could not open a channel to 127\.0\.0\.2:1/);
  // The node goes: its connection is closed.
  d.deleteNode('n1');
  await eventually('the sshd session ends', async () =>
    /Disconnected from user root|Received disconnect/.test(sshd.log()) ? true : undefined
  );
  assert.deepEqual(d.connected(), []);
});

test('host keys are pinned: a mismatch, or no pin at all, is refused at once naming the node and the fingerprints', async (t) => {
  const { dir, client, dialer } = await setup(t);
  const sshd = await startSshd(t, { address: '127.0.0.3', authorizedKeys: [client.publicKey] });
  const port = await echoServer(t, '127.0.0.3');
  const other = await sshKeyPair(dir, 'other-host-key');
  const d = dialer();
  d.upsertNode(node('n2', '127.0.0.3', pinned(sshd, other.fingerprint)));
  const started = Date.now();
  const err = await rejection(d.dial('tcp', `127.0.0.3:${port}`, { timeoutMs: 10_000 }));
  assert.ok(Date.now() - started < 3000);
  assert.equal(err.code, 503);
  assert.ok(err.message.includes(`host key mismatch for node "n2" at 127.0.0.3:${sshd.port}`), err.message);
  assert.ok(err.message.includes(`pinned ${other.fingerprint}`), err.message);
  assert.ok(err.message.includes(`presented ${sshd.hostKey.fingerprint}`), err.message);
  assert.doesNotMatch(sshd.log(), /Accepted publickey/, 'no authentication was attempted');

  // The kubelet publishes the right key: the tunnel is replaced and works.
  d.upsertNode(node('n2', '127.0.0.3', pinned(sshd)));
  assert.equal(await roundTrip(d, `127.0.0.3:${port}`), 'ping');

  // No pin: no connection (no trust on first use).
  d.upsertNode(node('n2', '127.0.0.3', { [sshPortAnnotation]: String(sshd.port) }));
  const none = await rejection(d.dial('tcp', `127.0.0.3:${port}`, { timeoutMs: 10_000 }));
  assert.match(none.message, /node "n2" has no pinned SSH host key .*no trust on first use/);
});

test('--ssh-known-hosts pins by [address]:port (plain or hashed) and wins over the annotation', async (t) => {
  const { dir, client, dialer } = await setup(t);
  const sshd = await startSshd(t, { address: '127.0.0.4', authorizedKeys: [client.publicKey] });
  const port = await echoServer(t, '127.0.0.4');
  const other = await sshKeyPair(dir, 'other-host-key');
  const name = `[127.0.0.4]:${sshd.port}`;
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  const d = dialer({ knownHosts: new KnownHosts(`# pins\n${hashed} ${sshd.hostKey.publicKey}`) });
  // The annotation names another key; known_hosts wins.
  d.upsertNode(node('n3', '127.0.0.4', pinned(sshd, other.fingerprint)));
  assert.equal(await roundTrip(d, `127.0.0.4:${port}`), 'ping');

  const wrong = dialer({ knownHosts: new KnownHosts(`${name} ${other.publicKey}`) });
  wrong.upsertNode(node('n3', '127.0.0.4', pinned(sshd)));
  const err = await rejection(wrong.dial('tcp', `127.0.0.4:${port}`, { timeoutMs: 10_000 }));
  assert.ok(err.message.includes(`pinned ${other.fingerprint} (--ssh-known-hosts)`), err.message);

  const revoked = dialer({
    knownHosts: new KnownHosts(`${name} ${sshd.hostKey.publicKey}\n@revoked * ${sshd.hostKey.publicKey}`),
  });
  revoked.upsertNode(node('n3', '127.0.0.4', pinned(sshd)));
  // The revoked key is not a pin, so the annotation's pin applies; it is the same key, so still connected:
  // @revoked only removes it from what known_hosts accepts.
  assert.equal(await roundTrip(revoked, `127.0.0.4:${port}`), 'ping');
});

test('a refused key names the node and user; a node without sshd fails quickly while the others work', async (t) => {
  const { dir, client, dialer } = await setup(t);
  const stranger = await sshKeyPair(dir, 'stranger');
  const sshd = await startSshd(t, { address: '127.0.0.5', authorizedKeys: [stranger.publicKey] });
  const good = await startSshd(t, { address: '127.0.0.6', authorizedKeys: [client.publicKey] });
  const port = await echoServer(t, '127.0.0.6');
  const d = dialer();
  d.upsertNode(node('refuses', '127.0.0.5', pinned(sshd)));
  d.upsertNode(node('good', '127.0.0.6', pinned(good)));
  // 127.0.0.7: nothing listens on its SSH port.
  d.upsertNode(
    node('no-sshd', '127.0.0.7', { [sshHostKeyAnnotation]: good.hostKey.fingerprint, [sshPortAnnotation]: '1' })
  );
  const refused = await rejection(d.dial('tcp', '127.0.0.5:10250', { timeoutMs: 10_000 }));
  assert.equal(refused.code, 503);
  assert.match(refused.message, /node "refuses" at 127\.0\.0\.5:\d+ refused the key of user "root"/);
  const started = Date.now();
  const down = await rejection(d.dial('tcp', '127.0.0.7:10250', { timeoutMs: 10_000 }));
  assert.ok(Date.now() - started < 2000);
  assert.match(down.message, /ssh: node "no-sshd" at 127\.0\.0\.7:1: .*ECONNREFUSED/);
  assert.equal(await roundTrip(d, `127.0.0.6:${port}`), 'ping');
});

test('sshd killed and restarted: the tunnel comes back and the next dial works', async (t) => {
  const { client, dialer } = await setup(t);
  const sshd = await startSshd(t, { address: '127.0.0.8', authorizedKeys: [client.publicKey] });
  const port = await echoServer(t, '127.0.0.8');
  const d = dialer();
  d.upsertNode(node('n5', '127.0.0.8', pinned(sshd)));
  const open = await d.dial('tcp', `127.0.0.8:${port}`, { timeoutMs: 10_000 });
  // A dropped connection ends its channels (read to the end, as a relay reads them).
  const closed = new Promise((r) => open.once('close', r));
  open.resume();
  await sshd.stop();
  await closed; // the channel ends with its connection
  await eventually('the tunnel notices', async () => (d.connected().length === 0 ? true : undefined));
  await rejection(d.dial('tcp', `127.0.0.8:${port}`, { timeoutMs: 10_000 }));
  await sshd.start();
  // Back-off may be waiting; a dial more than a second after the last failure tries again at once.
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(await roundTrip(d, `127.0.0.8:${port}`), 'ping');
  // The background reconnect brings it up without any dial as well.
  await sshd.stop();
  await sshd.start();
  await eventually('reconnected by back-off', async () => (d.connected().length === 1 ? true : undefined), 10_000);
});
