// Identity with the real kubectl: `auth whoami` as admin, a bootstrap token, a service account and a
// certificate from `hubspoke kubeconfig`; `auth can-i` (with --list and --as); `create token`; the hubspoke token
// CLI; and a TokenRequest JWT verified with jose against the keys served at /openid/v1/jwks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { stringify } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { kubectl, type Kubectl } from '../framework/kubectl.js';
import { adminClient } from '../framework/api.js';
import { KubeClient } from '../../src/lib/kube-client.js';

const issuer = 'https://kubernetes.default.svc.cluster.local';
// kubectl words a 401 differently by version and by whether discovery or the request met it.
const unauthorized = /Unauthorized|provide credentials/;

/** Runs `hubspoke <args>` from the source tree, as a user would. */
async function hubspoke(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: join(import.meta.dirname, '..', '..'),
  });
  return stdout;
}

for (const minor of [27, 33]) {
  describe(`identity and access with kubectl 1.${minor}`, () => {
    let cp: TestControlPlane;
    let k: Kubectl;
    let dir: string;
    const hooks: (() => Promise<void>)[] = [];

    before(async () => {
      cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void hooks.push(fn) });
      k = kubectl(minor, cp.kubeconfigPath);
      dir = await mkdtemp(join(tmpdir(), 'hubspoke-auth-'));
      await k.ok(['create', 'serviceaccount', 'ci']);
    });
    after(async () => {
      for (const h of hooks.reverse()) await h();
      await rm(dir, { recursive: true, force: true });
    });

    /** kubectl with a kubeconfig whose user is just a bearer token. */
    async function asToken(token: string, name: string): Promise<Kubectl> {
      const path = join(dir, `${name}.kubeconfig`);
      const ca = Buffer.from(cp.server.pki.ca.cert).toString('base64');
      await writeFile(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: cp.url, 'certificate-authority-data': ca } }],
          users: [{ name: 'u', user: { token } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
          'current-context': 'x',
        }),
        { mode: 0o600 }
      );
      return kubectl(minor, path);
    }

    it('auth can-i: yes exits 0, no exits 1; --as impersonates; --list prints the rules table', async () => {
      assert.equal((await k.ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
      const no = await k(['auth', 'can-i', 'get', 'secrets', '--as', 'alice']);
      assert.equal(no.code, 1);
      assert.equal(no.stdout.trim(), 'no');
      const basic = await k.ok([
        'auth',
        'can-i',
        'create',
        'selfsubjectaccessreviews.authorization.k8s.io',
        '--as',
        'alice',
      ]);
      assert.equal(basic.trim(), 'yes');
      assert.equal(
        (await k.ok(['auth', 'can-i', 'get', 'pods', '--as', 'alice', '--as-group', 'system:masters'])).trim(),
        'yes'
      );
      const list = await k.ok(['auth', 'can-i', '--list']);
      assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
      assert.match(list, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
      const alice = await k.ok(['auth', 'can-i', '--list', '--as', 'alice']);
      assert.match(alice, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
      assert.doesNotMatch(alice, /^\*\.\*/m);
    });

    it('create token --audience x --duration 10m: a JWT for that audience only, rejected by the API itself', async () => {
      const token = (await k.ok(['create', 'token', 'ci', '--audience', 'x', '--duration', '10m'])).trim();
      const claims = decodeJwt(token);
      assert.deepEqual(claims.aud, ['x']);
      assert.equal(claims.iss, issuer);
      assert.equal(claims.sub, 'system:serviceaccount:default:ci');
      assert.equal(claims.exp! - claims.iat!, 600);
      const admin = adminClient(cp);
      try {
        const review = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, audiences: ['x'] },
        });
        assert.equal(review.status.authenticated, true);
        assert.deepEqual(review.status.audiences, ['x']);
        assert.equal(review.status.user.username, 'system:serviceaccount:default:ci');
      } finally {
        admin.close();
      }
      const other = await asToken(token, 'aud-x');
      const r = await other(['get', 'pods']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, unauthorized);
    });

    it('a service-account token authenticates with its groups; impersonating without the verb is 403', async () => {
      const token = (await k.ok(['create', 'token', 'ci'])).trim();
      const sa = await asToken(token, 'sa');
      // kubectl 1.27 asks authentication.k8s.io/v1beta1, served beside v1 for it.
      const who = await sa.ok(['auth', 'whoami']);
      assert.match(who, /^Username\s+system:serviceaccount:default:ci$/m);
      assert.match(who, /^Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]$/m);
      assert.match(who, /^Extra: authentication\.kubernetes\.io\/credential-id\s+\[JTI=[0-9a-f-]+\]$/m);
      // --raw skips discovery, so the message is the request's own.
      const denied = await sa(['get', '--raw', '/api/v1/namespaces/default/pods', '--as', 'bob']);
      assert.equal(denied.code, 1);
      assert.equal(
        denied.stderr.trim(),
        'Error from server (Forbidden): users "bob" is forbidden: User "system:serviceaccount:default:ci" cannot impersonate resource "users" in API group "" at the cluster scope'
      );
    });

    it('a token bound to a pod works until the pod is deleted', async () => {
      await k.ok(['run', 'bound', '--image', 'busybox:1.36', '--overrides', '{"spec":{"serviceAccountName":"ci"}}']);
      const token = (
        await k.ok(['create', 'token', 'ci', '--bound-object-kind', 'Pod', '--bound-object-name', 'bound'])
      ).trim();
      const sa = await asToken(token, 'bound');
      assert.equal(
        (await sa.ok(['auth', 'can-i', 'create', 'selfsubjectrulesreviews.authorization.k8s.io'])).trim(),
        'yes'
      );
      await k.ok(['delete', 'pod', 'bound', '--grace-period', '0', '--force']);
      const r = await sa(['auth', 'can-i', 'create', 'selfsubjectrulesreviews.authorization.k8s.io']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, unauthorized);
    });
  });
}

describe('hubspoke token, hubspoke kubeconfig and the OIDC keys (kubectl 1.33)', () => {
  let cp: TestControlPlane;
  let k: Kubectl;
  let dir: string;
  const hooks: (() => Promise<void>)[] = [];

  before(async () => {
    cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void hooks.push(fn) });
    k = kubectl(33, cp.kubeconfigPath);
    dir = await mkdtemp(join(tmpdir(), 'hubspoke-auth-cli-'));
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
    await rm(dir, { recursive: true, force: true });
  });

  async function tokenKubectl(token: string): Promise<Kubectl> {
    const path = join(dir, `${token.slice(0, 6)}.kubeconfig`);
    const ca = Buffer.from(cp.server.pki.ca.cert).toString('base64');
    await writeFile(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: cp.url, 'certificate-authority-data': ca } }],
        users: [{ name: 'tls-bootstrap-token-user', user: { token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'tls-bootstrap-token-user' } }],
        'current-context': 'x',
      }),
      { mode: 0o600 }
    );
    return kubectl(33, path);
  }

  it('auth whoami as the admin certificate', async () => {
    const who = await k.ok(['auth', 'whoami']);
    assert.match(who, /^ATTRIBUTE\s+VALUE$/m);
    assert.match(who, /^Username\s+kubernetes-admin$/m);
    assert.match(who, /^Groups\s+\[system:masters system:authenticated\]$/m);
  });

  it('token create prints the join command; the token is system:bootstrap:<id>; list shows it; delete ends it', async () => {
    const out = await hubspoke(['token', 'create', '--kubeconfig', cp.kubeconfigPath, '--description', 'for n1']);
    const m =
      /^hubspoke agent --server (\S+) --token ([a-z0-9]{6})\.([a-z0-9]{16}) --ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(
        out
      );
    assert.ok(m, out);
    assert.equal(m[1], cp.url);
    const { caCertHash } = await import('../../src/pki/index.js');
    assert.equal(m[4], caCertHash(cp.server.pki.ca.cert));
    const token = `${m[2]}.${m[3]}`;
    const bootstrap = await tokenKubectl(token);
    const who = await bootstrap.ok(['auth', 'whoami']);
    assert.match(who, new RegExp(`^Username\\s+system:bootstrap:${m[2]}$`, 'm'));
    assert.match(
      who,
      /^Groups\s+\[system:bootstrappers system:bootstrappers:kubeadm:default-node-token system:authenticated\]$/m
    );
    const list = await hubspoke(['token', 'list', '--kubeconfig', cp.kubeconfigPath]);
    assert.match(list, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/m);
    assert.match(
      list,
      new RegExp(
        `^${token}\\s+2[34]h\\s+\\S+Z\\s+authentication,signing\\s+for n1\\s+system:bootstrappers:kubeadm:default-node-token$`,
        'm'
      )
    );
    assert.equal(
      await hubspoke(['token', 'delete', m[2]!, '--kubeconfig', cp.kubeconfigPath]),
      `bootstrap token "${m[2]}" deleted\n`
    );
    const gone = await bootstrap(['auth', 'whoami']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, unauthorized);
  });

  it('an expired bootstrap token is 401', async () => {
    const admin = adminClient(cp);
    try {
      await admin.request('POST', '/api/v1/namespaces/kube-system/secrets', {
        metadata: { name: 'bootstrap-token-old123' },
        type: 'bootstrap.kubernetes.io/token',
        stringData: {
          'token-id': 'old123',
          'token-secret': '0123456789abcdef',
          expiration: '2020-01-01T00:00:00Z',
          'usage-bootstrap-authentication': 'true',
        },
      });
    } finally {
      admin.close();
    }
    const r = await (await tokenKubectl('old123.0123456789abcdef'))(['auth', 'whoami']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, unauthorized);
  });

  it('hubspoke kubeconfig issues a certificate for a user and groups', async () => {
    const out = join(dir, 'jane.kubeconfig');
    await hubspoke([
      'kubeconfig',
      '--user',
      'jane',
      '--group',
      'devs',
      '--group',
      'ops',
      '--data-dir',
      cp.dataDir,
      '--out',
      out,
    ]);
    const who = await kubectl(33, out).ok(['auth', 'whoami']);
    assert.match(who, /^Username\s+jane$/m);
    assert.match(who, /^Groups\s+\[devs ops system:authenticated\]$/m);
  });

  it('a TokenRequest JWT verifies with jose against /openid/v1/jwks', async () => {
    await k.ok(['create', 'serviceaccount', 'verifier']);
    const token = (await k.ok(['create', 'token', 'verifier'])).trim();
    // Service accounts may read the discovery documents (system:service-account-issuer-discovery).
    const sa = new KubeClient({ server: cp.url, caPem: cp.server.pki.ca.cert, token });
    try {
      const config = await sa.get('/.well-known/openid-configuration');
      assert.equal(config.issuer, issuer);
      assert.equal(config.jwks_uri, `${cp.url}/openid/v1/jwks`);
      assert.deepEqual(config.id_token_signing_alg_values_supported, ['RS256']);
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await sa.get('/openid/v1/jwks')), {
        issuer,
        audience: issuer,
      });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.sub, 'system:serviceaccount:default:verifier');
    } finally {
      sa.close();
    }
  });
});
