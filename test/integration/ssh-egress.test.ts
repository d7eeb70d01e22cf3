// SSH egress end to end (issue 9): an API server with --ssh-user/--ssh-keyfile reaches every node through a real
// OpenSSH sshd per node on its own loopback address. Through it the real kubectl's logs, exec, port-forward and
// proxy work against a real kubelet whose pin it published itself; the kubelet's certificate is still verified
// inside the tunnel; a node whose sshd shows another host key, or that has no sshd, fails at once with a message
// naming the node (the others keep working); a killed and restarted sshd serves the next kubectl exec.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { createCA, issueCertificate } from '../../src/pki/index.js';
import { adminClient, eventually, userClient } from '../framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { kubectl } from '../framework/kubectl.js';
import { startTestKubelet } from '../framework/kubelet.js';
import { sshKeyPair, startSshd } from '../framework/sshd.js';

const listen = (s: Server, host: string): Promise<number> =>
  new Promise((r) => s.listen(0, host, () => r((s.address() as AddressInfo).port)));

/** A Node registered under its own identity (system:node:<name>), publishing an SSH pin as its kubelet would. */
async function nodeAsItself(
  cp: TestControlPlane,
  name: string,
  address: string,
  kubeletPort: number,
  annotations: Record<string, string>
): Promise<void> {
  const c = await userClient(cp, `system:node:${name}`, ['system:nodes']);
  await c.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, annotations } });
  await c.request(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        addresses: [{ type: 'InternalIP', address }],
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      },
    },
    'application/merge-patch+json'
  );
  c.close();
}

test('kubectl logs, exec, port-forward and proxy through SSH tunnels; pins, missing sshd and sshd restarts', async (t) => {
  const keys = await mkdtemp(join(tmpdir(), 'hubspoke-ssh-'));
  t.after(() => rm(keys, { recursive: true, force: true }));
  const apiserverKey = await sshKeyPair(keys, 'apiserver');
  const cp = await startTestControlPlane(t, {
    kubeletPreferredAddressTypes: ['InternalIP'],
    sshUser: 'root',
    sshKeyfile: apiserverKey.privateKeyFile,
    kubeletTimeoutMs: 5000,
  });

  // node-1: a real kubelet on 127.0.0.1 and its sshd; the kubelet publishes the sshd's host key and port.
  const sshd1 = await startSshd(t, { address: '127.0.0.1', authorizedKeys: [apiserverKey.publicKey] });
  await startTestKubelet(t, cp, {
    servingCertificate: true,
    options: { sshHostKeyFile: sshd1.hostKey.publicKeyFile, sshPort: sshd1.port },
  });
  const admin = adminClient(cp);
  t.after(() => admin.close());
  const node1 = await admin.get<{ metadata: { annotations?: Record<string, string> } }>('/api/v1/nodes/node-1');
  assert.equal(node1.metadata.annotations?.['hubspoke.io/ssh-host-key'], sshd1.hostKey.fingerprint);

  // A pod serving HTTP on the node's address (pods share the host network here).
  const probe = createServer();
  const port = await listen(probe, '127.0.0.1');
  await new Promise((r) => probe.close(r));
  const server = `require('http').createServer((q, r) => r.end('hi ' + q.url)).listen(${port}, '127.0.0.1'); console.log('one')`;
  await eventually('the pod is created', () =>
    admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        nodeName: 'node-1',
        containers: [{ name: 'c', image: 'host', command: [process.execPath, '-e', server] }],
      },
    })
  );
  await eventually(
    'the pod runs',
    async () =>
      (await admin.get<{ status?: { phase?: string } }>('/api/v1/namespaces/default/pods/web')).status?.phase ===
      'Running'
        ? true
        : undefined,
    30_000
  );
  await eventually('the pod listens', () => fetch(`http://127.0.0.1:${port}/`).then((r) => (r.ok ? true : undefined)));

  const k = kubectl(33, cp.kubeconfigPath);
  await eventually('logs arrive through the tunnel', async () =>
    (await k(['logs', 'web'])).stdout === 'one\n' ? true : undefined
  );
  const exec = await k(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 3'], { stdin: 'piped' });
  assert.equal(exec.stdout, 'piped', exec.stderr);
  assert.equal(exec.code, 3, exec.stderr);
  assert.equal(await k.ok(['get', '--raw', '/api/v1/nodes/node-1/proxy/healthz']), 'ok');
  assert.equal(await k.ok(['get', '--raw', `/api/v1/namespaces/default/pods/web:${port}/proxy/x`]), 'hi /x');
  for (const minor of [27, 33]) {
    const probe2 = createServer();
    const local = await listen(probe2, '127.0.0.1');
    await new Promise((r) => probe2.close(r));
    const pf = kubectl(minor, cp.kubeconfigPath).spawn(['port-forward', 'pod/web', `${local}:${port}`]);
    t.after(() => void pf.kill('SIGKILL'));
    const body = await eventually(`kubectl 1.${minor} port-forward serves`, async () => {
      const r = await fetch(`http://127.0.0.1:${local}/pf`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    });
    assert.equal(body, 'hi /pf');
    pf.kill('SIGKILL');
  }
  assert.match(sshd1.log(), /Accepted publickey for root/);

  // mismatch: node "other" publishes one key, its sshd presents another → refused at once, naming both.
  const sshd2 = await startSshd(t, { address: '127.0.0.3', authorizedKeys: [apiserverKey.publicKey] });
  const wrong = await sshKeyPair(keys, 'not-the-host-key');
  await nodeAsItself(cp, 'other', '127.0.0.3', 10250, {
    'hubspoke.io/ssh-host-key': wrong.fingerprint,
    'hubspoke.io/ssh-port': String(sshd2.port),
  });
  const started = Date.now();
  const refused = await eventually('the mismatch is reported', async () => {
    const r = await k(['get', '--raw', '/api/v1/nodes/other/proxy/healthz']);
    return /host key mismatch/.test(r.stderr) ? r : undefined;
  });
  assert.ok(Date.now() - started < 10_000);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /ServiceUnavailable/);
  assert.ok(refused.stderr.includes('host key mismatch for node "other"'), refused.stderr);
  assert.ok(refused.stderr.includes(`pinned ${wrong.fingerprint}`), refused.stderr);
  assert.ok(refused.stderr.includes(`presented ${sshd2.hostKey.fingerprint}`), refused.stderr);
  // An admin cannot "fix" the pin: only the node itself may write it.
  const patch = await k([
    'annotate',
    '--overwrite',
    'node',
    'other',
    `hubspoke.io/ssh-host-key=${sshd2.hostKey.fingerprint}`,
  ]);
  assert.notEqual(patch.code, 0);
  assert.match(patch.stderr, /only node "other" itself may set the annotations hubspoke\.io\/ssh-host-key/);

  // A node without an sshd: its requests fail quickly, node-1's still work.
  await nodeAsItself(cp, 'no-sshd', '127.0.0.4', 10250, {
    'hubspoke.io/ssh-host-key': wrong.fingerprint,
    'hubspoke.io/ssh-port': '1',
  });
  const down = await eventually('the missing sshd is reported', async () => {
    const r = await k(['get', '--raw', '/api/v1/nodes/no-sshd/proxy/healthz']);
    return /ECONNREFUSED/.test(r.stderr) ? r : undefined;
  });
  assert.match(down.stderr, /ssh: node "no-sshd" at 127\.0\.0\.4:1: connect ECONNREFUSED/);
  assert.equal(await k.ok(['get', '--raw', '/api/v1/nodes/node-1/proxy/healthz']), 'ok');

  // The kubelet's certificate is still verified inside the tunnel: a self-signed "kubelet" behind a good sshd.
  const sshd3 = await startSshd(t, { address: '127.0.0.5', authorizedKeys: [apiserverKey.publicKey] });
  const rogueCA = await createCA({ commonName: 'intruder' });
  const rogue = await issueCertificate({
    ca: rogueCA,
    commonName: '127.0.0.5',
    ipAddresses: ['127.0.0.5'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  const impostor = createTlsServer({ cert: rogue.cert, key: rogue.key }, (s) => s.end('HTTP/1.1 200 OK\r\n\r\nok'));
  const impostorPort = await listen(impostor, '127.0.0.5');
  t.after(() => void impostor.close());
  await nodeAsItself(cp, 'mitm', '127.0.0.5', impostorPort, {
    'hubspoke.io/ssh-host-key': sshd3.hostKey.fingerprint,
    'hubspoke.io/ssh-port': String(sshd3.port),
  });
  const mitm = await eventually('the impostor is refused', async () => {
    const r = await k(['get', '--raw', '/api/v1/nodes/mitm/proxy/healthz']);
    return /x509/.test(r.stderr) ? r : undefined;
  });
  assert.match(mitm.stderr, /kubelet of node "mitm" at 127\.0\.0\.5:\d+: tls: failed to verify certificate: x509/);

  // node-1's sshd dies: requests fail with the tunnel's error; it comes back and the next exec works.
  await sshd1.stop();
  await eventually('the dead tunnel is reported', async () => {
    const r = await k(['exec', 'web', '--', 'true']);
    return r.code !== 0 && /ssh: node "node-1"/.test(r.stderr) ? true : undefined;
  });
  await sshd1.start();
  await eventually(
    'exec works again',
    async () => {
      const r = await k(['exec', 'web', '--', 'echo', 'back']);
      return r.code === 0 ? r.stdout : undefined;
    },
    15_000
  ).then((out) => assert.equal(out, 'back\n'));
});
