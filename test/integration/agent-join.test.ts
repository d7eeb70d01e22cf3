// `hubspoke agent`'s join against a real control plane, whose controllers approve and sign, with only the
// default RBAC (kubeadm's bootstrap bindings): a bootstrap token → CA discovery pinned by its hash → bootstrap
// CSR → kubelet-client-current.pem and kubelet.conf → the kubelet registers its Node and gets a serving
// certificate. A wrong pin is refused, naming both hashes, with nothing written; an unpinned join needs the unsafe
// flag; certificates rotate with no failed request; expired certificates need a new token, and a new token
// re-bootstraps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../src/lib/kube-client.js';
import { loadKubeconfig } from '../../src/lib/kubeconfig.js';
import { newLogger } from '../../src/lib/log.js';
import {
  bootstrapKubeconfig,
  clientStore,
  kubeletKubeconfig,
  loadClientCert,
} from '../../src/kubelet/bootstrap/bootstrap.js';
import { prepareJoin, validateJoinOptions, type JoinOptions } from '../../src/kubelet/bootstrap/join.js';
import {
  startKubeletWithBootstrap,
  type NodeAgent,
  type TLSBootstrapOptions,
} from '../../src/kubelet/bootstrap/node.js';
import { completeKubeletOptions, validateKubeletOptions } from '../../src/kubelet/options.js';
import { caCertHash, issueCertificate, parseCertificate, writeKeyFile } from '../../src/pki/index.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';

type Obj = Record<string, any>;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const log = newLogger({ format: 'json', level: process.env.HUBSPOKE_TEST_LOG_LEVEL ?? 'silent' });
const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
let cp: TestControlPlane;
let admin: KubeClient;
let pin: string;

const rand = (n: number): string =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

/** A bootstrap token as `hubspoke token create` makes it: kubeadm's default node-token group, 1 h. */
async function newToken(): Promise<string> {
  const id = rand(6);
  const secret = rand(16);
  await admin.request('POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      'token-id': id,
      'token-secret': secret,
      expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
    },
  });
  return `${id}.${secret}`;
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : 'no value'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Node {
  rootDir: string;
  nodeName: string;
  join: JoinOptions;
  start(t?: Partial<TLSBootstrapOptions>): Promise<NodeAgent>;
}

/** A node's directories and join options (the agent's defaults under a temp root dir). */
async function node(nodeName: string, join_: Partial<JoinOptions>): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-agent-'));
  const rootDir = join(dir, 'root');
  const agents: NodeAgent[] = [];
  cleanups.push(async () => {
    for (const a of agents) await a.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const kubeconfigPath = join(rootDir, 'kubelet.conf');
  const bootstrapKubeconfigPath = join(rootDir, 'bootstrap-kubelet.conf');
  return {
    rootDir,
    nodeName,
    join: {
      server: cp.url,
      caCertHashes: [pin],
      unsafeSkipCAVerification: false,
      kubeconfigPath,
      bootstrapKubeconfigPath,
      log,
      ...join_,
    },
    async start(t = {}) {
      const { options, errors } = await completeKubeletOptions({
        kubeconfig: kubeconfigPath,
        hostnameOverride: nodeName,
        nodeIP: '127.0.0.1',
        rootDir,
        overrides: { podLogsDir: join(dir, 'pods'), nodeStatusUpdateFrequency: '1s', port: 0, address: '127.0.0.1' },
      });
      errors.push(...validateKubeletOptions(options));
      assert.deepEqual(errors, []);
      const a = await startKubeletWithBootstrap(
        options,
        {
          bootstrapKubeconfig: bootstrapKubeconfigPath,
          certDir: join(rootDir, 'pki'),
          rotateCertificates: true,
          serverTLSBootstrap: true,
          ...t,
        },
        log
      );
      agents.push(a);
      return a;
    },
  };
}

before(async () => {
  cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
  const { ca, admin: a } = cp.server.pki;
  admin = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: a.cert, keyPem: a.key });
  cleanups.push(() => admin.close());
  pin = caCertHash(ca.cert);
});

describe('hubspoke agent join', () => {
  it('joins with the right pin: bootstrap CSR, client certificate files, Node registered, serving certificate', async () => {
    const n = await node('agent-1', { token: await newToken() });
    assert.deepEqual(await prepareJoin(n.join), {
      joined: 'bootstrap',
      reason: `${n.join.kubeconfigPath} does not exist`,
      caSource: 'tls-chain',
    });
    assert.equal((await stat(n.join.bootstrapKubeconfigPath)).mode & 0o777, 0o600);
    const agent = await n.start();
    assert.equal(agent.bootstrap.bootstrapped, true);

    // The CSR: asked for with the token, approved by the default policy, named as upstream's.
    const name = agent.bootstrap.bootstrapped ? agent.bootstrap.csrName : '';
    assert.match(name, /^node-csr-[A-Za-z0-9_-]{43}$/);
    const csr = await admin.get<Obj>(`${csrs}/${name}`);
    assert.equal(csr.spec.username, `system:bootstrap:${n.join.token!.split('.')[0]}`);
    assert.deepEqual(csr.spec.usages, ['digital signature', 'client auth']);
    assert.equal(csr.status.conditions[0].reason, 'AutoApproved');

    // pki/kubelet-client-current.pem → a timestamped 0600 file holding the certificate then the key.
    const pki = join(n.rootDir, 'pki');
    const current = join(pki, 'kubelet-client-current.pem');
    assert.ok((await lstat(current)).isSymbolicLink());
    assert.match(await readlink(current), /^kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    assert.equal((await stat(current)).mode & 0o777, 0o600);
    const pem = await readFile(current, 'utf8');
    assert.match(pem, /^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN PRIVATE KEY-----/);
    const info = parseCertificate(pem);
    assert.equal(info.commonName, 'system:node:agent-1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    const kc = await readFile(n.join.kubeconfigPath, 'utf8');
    assert.match(kc, new RegExp(`client-certificate: ${current}\\n`));
    assert.match(kc, new RegExp(`client-key: ${current}\\n`));
    await assert.rejects(stat(join(pki, 'kubelet-client.key.tmp')));

    // The kubelet runs with it: the Node registers as system:node:agent-1.
    const registered = await until('Node agent-1', 5000, () => admin.get<Obj>('/api/v1/nodes/agent-1'));
    assert.deepEqual(registered.status.addresses, [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'agent-1' },
    ]);

    // The serving certificate, through a kubelet-serving CSR for the node's names.
    const serving = await until('a serving certificate', 5000, async () => agent.servingCertificate?.current());
    assert.deepEqual(
      [serving.info.commonName, serving.info.dnsNames, serving.info.ipAddresses, serving.info.usages],
      ['system:node:agent-1', ['agent-1'], ['127.0.0.1'], ['server']]
    );
    assert.ok(agent.servingCertificate?.secureContext());
    assert.ok((await lstat(join(pki, 'kubelet-server-current.pem'))).isSymbolicLink());

    // A later start with a valid certificate: no bootstrap, no token needed.
    await agent.stop();
    assert.deepEqual(await prepareJoin({ ...n.join, token: undefined }), { joined: 'already' });
    const again = await n.start();
    assert.deepEqual(again.bootstrap, { bootstrapped: false });
  });

  it('refuses a wrong pin, naming both hashes, and writes nothing', async () => {
    const wrong = `sha256:${'ab'.repeat(32)}`;
    const n = await node('agent-bad', { token: await newToken(), caCertHashes: [wrong] });
    await assert.rejects(prepareJoin(n.join), (err: Error) => {
      assert.match(err.message, /^refusing to join/);
      assert.ok(err.message.includes(pin), err.message);
      assert.ok(err.message.includes(wrong), err.message);
      return true;
    });
    await assert.rejects(stat(n.rootDir), { code: 'ENOENT' });
  });

  it('joins without a pin only with --discovery-token-unsafe-skip-ca-verification', async () => {
    const n = await node('agent-unpinned', { token: await newToken(), caCertHashes: [] });
    assert.match(validateJoinOptions(n.join).join('\n'), /--ca-cert-hash is required/);
    await assert.rejects(prepareJoin(n.join), /--discovery-token-unsafe-skip-ca-verification/);
    const unsafe = { ...n.join, unsafeSkipCAVerification: true };
    assert.deepEqual(validateJoinOptions(unsafe), []);
    assert.equal((await prepareJoin(unsafe)).joined, 'bootstrap');
    const result = await loadClientCert({
      kubeconfigPath: n.join.kubeconfigPath,
      bootstrapKubeconfigPath: n.join.bootstrapKubeconfigPath,
      certDir: join(n.rootDir, 'pki'),
      nodeName: n.nodeName,
      log,
    });
    assert.equal(result.bootstrapped, true);
    assert.equal((await loadKubeconfig(n.join.kubeconfigPath)).caPem.trim(), cp.server.pki.ca.cert.trim());
  });

  it('rotates the client and serving certificates with no failed request', async (t) => {
    const n = await node('agent-rotate', { token: await newToken() });
    await prepareJoin(n.join);
    // Renew 1.5 s after a certificate is first seen, instead of at 70–90 % of a year.
    const seen = new Map<string, number>();
    const rotationDeadline = (info: { serialNumber: string }): Date => {
      if (!seen.has(info.serialNumber)) seen.set(info.serialNumber, Date.now());
      return new Date(seen.get(info.serialNumber)! + 1500);
    };
    const agent = await n.start({ rotationDeadline });
    const firstClient = agent.clientCertificate!.current()!;
    const client: string[] = [];
    const serving: string[] = [];
    agent.clientCertificate!.onRotate((p) => client.push(p.info.serialNumber));
    agent.servingCertificate!.onRotate((p) => serving.push(p.info.serialNumber));

    // Requests through the kubelet's own client the whole time: none may fail.
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          await agent.kubelet.client.get('/api/v1/nodes/agent-rotate');
          ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until('two client and two serving rotations', 15_000, async () => client.length >= 2 && serving.length >= 2);
    running = false;
    await load;
    assert.deepEqual(failures, []);
    assert.ok(ok > 10, `${ok} requests`);
    t.diagnostic(`${ok} requests, ${client.length} client and ${serving.length} serving rotations`);

    // New serials and new keys; the link and the kubeconfig follow; renewals are the node's own (selfnodeclient).
    const now = agent.clientCertificate!.current()!;
    assert.notEqual(now.info.serialNumber, firstClient.info.serialNumber);
    assert.notEqual(now.keyPem, firstClient.keyPem);
    assert.equal(
      parseCertificate((await loadKubeconfig(n.join.kubeconfigPath)).certPem!).serialNumber,
      now.info.serialNumber
    );
    const list = await admin.get<{ items: Obj[] }>(csrs);
    const renewals = list.items.filter(
      (c) => c.spec.username === 'system:node:agent-rotate' && c.spec.signerName.endsWith('client-kubelet')
    );
    assert.ok(renewals.length >= 2);
    for (const c of renewals) {
      assert.match(c.metadata.name, /^csr-/);
      assert.equal(
        c.status.conditions[0].message,
        'Auto approving self kubelet client certificate after SubjectAccessReview.'
      );
    }
    assert.equal(new Set(serving).size, serving.length);
    // The Lease kept being renewed by the rotated identity.
    const lease = await admin.get<Obj>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/agent-rotate');
    assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 5000);
  });

  it('expired certificates: a clear error without a token, a re-bootstrap with a new one', async () => {
    const n = await node('agent-expired', {});
    // The node was off while its certificate (1 s here) expired.
    const { ca } = cp.server.pki;
    const short = await issueCertificate({
      ca,
      commonName: 'system:node:agent-expired',
      organizations: ['system:nodes'],
      usages: ['client'],
      validityMs: 1000,
    });
    const pki = join(n.rootDir, 'pki');
    await mkdir(pki, { recursive: true });
    const store = clientStore(pki);
    await store.update(short.cert, short.key);
    await writeKeyFile(n.join.kubeconfigPath, kubeletKubeconfig(cp.url, ca.cert, store.currentPath));
    await new Promise((r) => setTimeout(r, 1100));

    await assert.rejects(prepareJoin(n.join), (err: Error) => {
      assert.match(err.message, /expired at .*while the node was off.*hubspoke token create/);
      return true;
    });
    await assert.rejects(n.start({ bootstrapKubeconfig: undefined }), /expired at .*no bootstrap kubeconfig/);
    // A stale bootstrap kubeconfig whose token was deleted: the server's refusal, and what to do.
    await writeKeyFile(n.join.bootstrapKubeconfigPath, bootstrapKubeconfig(cp.url, ca.cert, 'zzzzzz.zzzzzzzzzzzzzzzz'));
    await assert.rejects(n.start(), /rejected the bootstrap token .*hubspoke token create/);

    const token = await newToken();
    const joined = await prepareJoin({ ...n.join, token });
    assert.equal(joined.joined, 'bootstrap');
    assert.match(joined.joined === 'bootstrap' ? joined.reason : '', /expired at/);
    const agent = await n.start();
    assert.equal(agent.bootstrap.bootstrapped, true);
    assert.ok(agent.clientCertificate!.current()!.info.notAfter.getTime() > Date.now() + 3600_000);
    await until('Node agent-expired', 5000, () => admin.get<Obj>('/api/v1/nodes/agent-expired'));
  });
});
