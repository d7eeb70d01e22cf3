// Agent authentication against a real API server: bound service-account tokens through TokenReview, and mTLS.
// Every refusal happens before the server sends a header, and the server logs why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { startTestControlPlane } from '../../../test/framework/control-plane.js';
import { adminClient, userClient } from '../../../test/framework/api.js';
import { isAlreadyExists } from '../../api/errors.js';
import { createCA, issueCertificate } from '../../pki/index.js';
import { ProxyAgent } from '../agent/agent.js';
import { allowList } from '../agent/allow-list.js';
import { testPKI } from '../testing.js';
import { tokenReviewAuthenticator } from './auth.js';
import { ProxyServer } from './server.js';

const ns = 'kube-system';
const sa = 'konnectivity-agent';

/** The control plane makes kube-system/konnectivity-agent at start (src/cli/node-identities.ts); others are made here. */
async function createServiceAccount(admin: ReturnType<typeof adminClient>, name: string): Promise<void> {
  try {
    await admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

test('token auth: the agent service account with audience system:konnectivity-server connects; bad tokens are refused before any header, with the reason logged', async (t) => {
  const cp = await startTestControlPlane(t);
  const admin = adminClient(cp);
  t.after(() => admin.close());
  for (const name of [sa, 'someone-else']) await createServiceAccount(admin, name);
  const tokenFor = async (name: string, audiences: string[]): Promise<string> =>
    (
      await admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences, expirationSeconds: 3600 },
      })
    ).status.token as string;
  const good = await tokenFor(sa, ['system:konnectivity-server']);
  const wrongAudience = await tokenFor(sa, ['https://kubernetes.default.svc.cluster.local']);
  const wrongSA = await tokenFor('someone-else', ['system:konnectivity-server']);
  const saUID = (await admin.get(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}`)).metadata.uid as string;
  const claims = (exp: number) => ({
    'kubernetes.io': { namespace: ns, serviceaccount: { name: sa, uid: saUID } },
    sub: `system:serviceaccount:${ns}:${sa}`,
    aud: ['system:konnectivity-server'],
    iss: 'https://kubernetes.default.svc.cluster.local',
    iat: exp - 3600,
    nbf: exp - 3600,
    exp,
  });
  const now = Math.floor(Date.now() / 1000);
  // Signed by the cluster's own key, but expired an hour ago (past the 60 s leeway).
  const saKey = createPrivateKey(readFileSync(join(cp.dataDir, 'pki', 'sa.key')));
  const expired = await new SignJWT(claims(now - 3600)).setProtectedHeader({ alg: 'RS256' }).sign(saKey);
  // Good claims, but signed by a key the cluster has never seen.
  const forged = await new SignJWT(claims(now + 3600))
    .setProtectedHeader({ alg: 'RS256' })
    .sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);

  const logged: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logged.push(chunk.toString());
        cb();
      },
    })
  );
  const pki = await testPKI();
  // As `hubspoke server` runs it: reviewing as system:konnectivity-server (system:auth-delegator), not as admin.
  const reviewer = await userClient(cp, 'system:konnectivity-server');
  t.after(() => reviewer.close());
  const server = new ProxyServer({
    serverID: 's1',
    authenticateAgent: tokenReviewAuthenticator({ client: reviewer, agentNamespace: ns, agentServiceAccount: sa }),
    log,
  });
  t.after(() => server.close());
  const port = await server.listenAgents('127.0.0.1:0', pki.serverTLS);
  const connect = (token?: string) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${port}`,
      caCert: pki.ca.cert,
      serverName: 'konnectivity-server',
      agentID: 'node1',
      agentIdentifiers: '',
      token: token === undefined ? undefined : () => token,
      allow: allowList([]),
    });
    t.after(() => a.close());
    return a.connect();
  };

  const cases: [string, string | undefined, RegExp][] = [
    ['no token', undefined, /no bearer token/],
    ['forged', forged, /lookup failed: .*invalid signature/],
    ['expired', expired, /lookup failed: .*expired at/],
    ['wrong audience', wrongAudience, /lookup failed: .*wrong audience/],
    [
      'wrong service account',
      wrongSA,
      /"system:serviceaccount:kube-system:someone-else" is not "system:serviceaccount:kube-system:konnectivity-agent"/,
    ],
  ];
  for (const [what, token, why] of cases) {
    logged.length = 0;
    await assert.rejects(connect(token), why, what);
    assert.equal(server.readyBackends, 0, what);
    const refusal = logged.map((l) => JSON.parse(l)).find((r) => r.msg === 'agent refused');
    assert.match(refusal?.reason ?? '', why, `${what}: the refusal is logged with its reason`);
  }
  assert.deepEqual(await connect(good), { serverID: 's1', serverCount: 1 });
  assert.equal(server.readyBackends, 1);
});

test('node binding: an agent may claim only the node its token is bound to, and addresses that Node reports', async (t) => {
  const cp = await startTestControlPlane(t);
  const admin = adminClient(cp);
  t.after(() => admin.close());
  await createServiceAccount(admin, sa);
  const node = await admin.request('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
  await admin.request(
    'PATCH',
    '/api/v1/nodes/n1/status',
    { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.11' }] } },
    'application/merge-patch+json'
  );
  const tokenFor = async (boundObjectRef?: object): Promise<string> =>
    (
      await admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: ['system:konnectivity-server'], expirationSeconds: 3600, boundObjectRef },
      })
    ).status.token as string;
  const bound = await tokenFor({ kind: 'Node', apiVersion: 'v1', name: 'n1', uid: node.metadata.uid });
  const unbound = await tokenFor();
  const pki = await testPKI();
  // Its node reads too come from the bootstrap policy's binding for system:konnectivity-server.
  const reviewer = await userClient(cp, 'system:konnectivity-server');
  t.after(() => reviewer.close());
  const server = new ProxyServer({
    serverID: 's1',
    authenticateAgent: tokenReviewAuthenticator({
      client: reviewer,
      agentNamespace: ns,
      agentServiceAccount: sa,
      requireNodeBinding: true,
    }),
  });
  t.after(() => server.close());
  const port = await server.listenAgents('127.0.0.1:0', pki.serverTLS);
  const connect = (token: string, agentIdentifiers: string) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${port}`,
      caCert: pki.ca.cert,
      serverName: 'konnectivity-server',
      agentID: 'agent',
      agentIdentifiers,
      token: () => token,
      allow: allowList([]),
    });
    t.after(() => a.close());
    return a.connect();
  };
  await assert.rejects(connect(unbound, 'host=n1'), /token is not bound to a node/);
  await assert.rejects(connect(bound, 'host=n2'), /agent of node n1 claims host "n2"/);
  await assert.rejects(connect(bound, 'host=n1&host=n2'), /claims host "n1,n2"/);
  await assert.rejects(
    connect(bound, 'host=n1&ipv4=127.0.0.99'),
    /claims addresses 127.0.0.99 the Node does not report/
  );
  await assert.rejects(connect(bound, 'host=n1&default-route=true'), /claims cidr or default-route/);
  assert.equal(server.readyBackends, 0);
  assert.deepEqual(await connect(bound, 'host=n1&ipv4=127.0.0.11'), { serverID: 's1', serverCount: 1 });
  assert.equal(server.readyBackends, 1);
});

test('mTLS auth: an agent certificate from the cluster CA connects; none, or one from another CA, is refused', async (t) => {
  const pki = await testPKI();
  const server = new ProxyServer({ serverID: 's1' });
  t.after(() => server.close());
  const port = await server.listenAgents('127.0.0.1:0', { ...pki.serverTLS, ca: pki.ca.cert });
  const stranger = await createCA({ commonName: 'not-the-cluster-ca' });
  const connect = (cert?: { cert: string; key: string }) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${port}`,
      caCert: pki.ca.cert,
      serverName: 'konnectivity-server',
      agentCert: cert?.cert,
      agentKey: cert?.key,
      agentID: 'node1',
      agentIdentifiers: '',
      allow: allowList([]),
      connectTimeoutMs: 5000,
    });
    t.after(() => a.close());
    return a.connect();
  };
  await assert.rejects(connect());
  await assert.rejects(
    connect(await issueCertificate({ ca: stranger, commonName: 'node1', usages: ['client'], validityMs: 3_600_000 }))
  );
  assert.equal(server.readyBackends, 0);
  assert.deepEqual(await connect(await pki.client('node1')), { serverID: 's1', serverCount: 1 });
  assert.equal(server.readyBackends, 1);
  assert.throws(
    () => new ProxyServer({ serverID: 's2' }).listenAgents('127.0.0.1:0', pki.serverTLS),
    /give authenticateAgent or a client CA/
  );
});
