// What real kubectl binaries send. Findings (kubectl 1.27 … 1.33 against a fake server):
// - kubectl >= 1.32 sends typed commands' bodies (create <kind>, create token, auth can-i, auth whoami,
//   certificate approve/deny) as application/vnd.kubernetes.protobuf; 1.27 … 1.31 send JSON.
// - `kubectl run` builds an unstructured object and sends JSON in every version.
// - The protobuf bodies decode to exactly the JSON the older kubectl sends, minus its `null`s
//   (`creationTimestamp: null`, `boundObjectRef: null`, …), and re-encode to the same bytes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeKubernetesProtobuf, encodeKubernetesProtobuf, isKubernetesProtobuf } from './index.js';

interface Captured {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

const discovery: Record<string, Array<[name: string, kind: string, namespaced: boolean]>> = {
  '/api/v1': [
    ['namespaces', 'Namespace', false],
    ['configmaps', 'ConfigMap', true],
    ['secrets', 'Secret', true],
    ['serviceaccounts', 'ServiceAccount', true],
    ['serviceaccounts/token', 'TokenRequest', true],
    ['services', 'Service', true],
    ['pods', 'Pod', true],
    ['nodes', 'Node', false],
  ],
  '/apis/rbac.authorization.k8s.io/v1': [
    ['roles', 'Role', true],
    ['rolebindings', 'RoleBinding', true],
    ['clusterroles', 'ClusterRole', false],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ],
  '/apis/authorization.k8s.io/v1': [
    ['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false],
    ['selfsubjectrulesreviews', 'SelfSubjectRulesReview', false],
  ],
  '/apis/authentication.k8s.io/v1': [['selfsubjectreviews', 'SelfSubjectReview', false]],
  '/apis/certificates.k8s.io/v1': [
    ['certificatesigningrequests', 'CertificateSigningRequest', false],
    ['certificatesigningrequests/approval', 'CertificateSigningRequest', false],
  ],
  '/apis/scheduling.k8s.io/v1': [['priorityclasses', 'PriorityClass', false]],
};

const csr = {
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'csr1', uid: 'u1', resourceVersion: '5', creationTimestamp: '2024-01-02T03:04:05Z' },
  spec: {
    request: 'aGVsbG8=',
    signerName: 'kubernetes.io/kube-apiserver-client',
    expirationSeconds: 3600,
    usages: ['client auth'],
    username: 'bob',
    groups: ['system:authenticated'],
    extra: { 'scopes.example': ['a', 'b'] },
  },
  status: {},
};

/** What the fake server answers to a write: the object back, with the status kubectl insists on reading. */
const replyStatus: Record<string, unknown> = {
  SelfSubjectAccessReview: { allowed: true },
  SelfSubjectRulesReview: { incomplete: false },
  SelfSubjectReview: { userInfo: { username: 'alice' } },
  TokenRequest: { token: 'token', expirationTimestamp: '2030-01-01T00:00:00Z' },
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeBody(contentType: string, body: Buffer): Record<string, unknown> {
  return isKubernetesProtobuf(contentType)
    ? decodeKubernetesProtobuf(body).object
    : (JSON.parse(body.toString()) as Record<string, unknown>);
}

async function serve(captured: Captured[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (code: number, obj: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const body = await readBody(req);
  if (req.method !== 'GET') {
    const contentType = req.headers['content-type'] ?? '';
    captured.push({ method: req.method ?? '', path, contentType, body });
    const obj = decodeBody(contentType, body);
    const status = replyStatus[String(obj.kind)];
    return send(req.method === 'POST' ? 201 : 200, status ? { ...obj, status } : obj);
  }
  if (path === '/version') return send(200, { major: '1', minor: '33', gitVersion: 'v1.33.0' });
  if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  if (path === '/apis') {
    const groups = Object.keys(discovery)
      .filter((p) => p.startsWith('/apis/'))
      .map((p) => {
        const [name = '', version = ''] = p.slice('/apis/'.length).split('/');
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      });
    return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
  }
  const resources = discovery[path];
  if (resources) {
    const groupVersion = path === '/api/v1' ? 'v1' : path.slice('/apis/'.length);
    const list = resources.map(([name, kind, namespaced]) => ({
      name,
      singularName: '',
      namespaced,
      kind,
      verbs: ['create', 'get', 'list', 'update'],
    }));
    return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: list });
  }
  if (path === '/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1') return send(200, csr);
  send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
}

/** Directory of the real kubectl (the versioned binaries sit beside it), or undefined when it is not installed. */
function kubectlDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    if (dir && existsSync(candidate)) return dirname(realpathSync(candidate));
  }
  return undefined;
}

interface Case {
  args: string[];
  method: string;
  path: string;
  want: Record<string, unknown>;
  /** Sent as JSON by every kubectl version. */
  alwaysJSON?: boolean;
  /** The request path differs before this kubectl version. */
  since?: number;
}

const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} };
const rbac = 'rbac.authorization.k8s.io';

const cases: Case[] = [
  { args: ['create', 'namespace', 'team-a'], method: 'POST', path: '/api/v1/namespaces', want: ns },
  {
    args: ['create', 'configmap', 'c', '--from-literal=a=b', '-n', 'default'],
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'b' } },
  },
  {
    args: ['create', 'secret', 'generic', 's', '--from-literal=p=q'],
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    want: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { p: 'cQ==' } },
  },
  {
    args: ['create', 'serviceaccount', 'sa1'],
    method: 'POST',
    path: '/api/v1/namespaces/default/serviceaccounts',
    want: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1' } },
  },
  {
    args: ['create', 'service', 'clusterip', 'web', '--tcp=80:8080'],
    method: 'POST',
    path: '/api/v1/namespaces/default/services',
    want: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    args: ['create', 'role', 'r', '--verb=get', '--resource=pods'],
    method: 'POST',
    path: `/apis/${rbac}/v1/namespaces/default/roles`,
    want: {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: 'r' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
    },
  },
  {
    args: ['create', 'rolebinding', 'rb', '--role=r', '--user=alice'],
    method: 'POST',
    path: `/apis/${rbac}/v1/namespaces/default/rolebindings`,
    want: {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'rb' },
      subjects: [{ kind: 'User', apiGroup: rbac, name: 'alice' }],
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'r' },
    },
  },
  {
    args: ['create', 'clusterrole', 'cr', '--verb=list', '--resource=nodes'],
    method: 'POST',
    path: `/apis/${rbac}/v1/clusterroles`,
    want: {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'cr' },
      rules: [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }],
    },
  },
  {
    args: ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=devs', '--serviceaccount=default:sa1'],
    method: 'POST',
    path: `/apis/${rbac}/v1/clusterrolebindings`,
    want: {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crb' },
      subjects: [
        { kind: 'Group', apiGroup: rbac, name: 'devs' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
      ],
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'cr' },
    },
  },
  {
    args: ['auth', 'can-i', 'get', 'pods'],
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    want: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
      status: { allowed: false },
    },
  },
  {
    args: ['auth', 'can-i', '--list'],
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    want: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: { namespace: 'default' },
      status: { incomplete: false },
    },
  },
  {
    args: ['auth', 'whoami'],
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    want: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } },
    since: 28, // kubectl 1.27 posts to authentication.k8s.io/v1beta1
  },
  {
    args: ['create', 'token', 'sa1', '--audience=api', '--duration=1h'],
    method: 'POST',
    path: '/api/v1/namespaces/default/serviceaccounts/sa1/token',
    want: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { audiences: ['api'], expirationSeconds: 3600 },
      status: { token: '' },
    },
  },
  {
    args: ['create', 'priorityclass', 'high', '--value=1000', '--description=d', '--preemption-policy=Never'],
    method: 'POST',
    path: '/apis/scheduling.k8s.io/v1/priorityclasses',
    want: {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'high' },
      value: 1000,
      description: 'd',
      preemptionPolicy: 'Never',
    },
  },
  {
    args: ['certificate', 'approve', 'csr1'],
    method: 'PUT',
    path: '/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1/approval',
    want: {
      ...csr,
      status: {
        conditions: [
          {
            type: 'Approved',
            status: 'True',
            reason: 'KubectlApprove',
            message: 'This CSR was approved by kubectl certificate approve.',
            lastUpdateTime: '(now)',
          },
        ],
      },
    },
  },
  {
    args: ['run', 'p1', '--image=nginx', '--restart=Never'],
    method: 'POST',
    path: '/api/v1/namespaces/default/pods',
    alwaysJSON: true,
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', labels: { run: 'p1' } },
      spec: {
        containers: [{ name: 'p1', image: 'nginx', resources: {} }],
        restartPolicy: 'Never',
        dnsPolicy: 'ClusterFirst',
      },
      status: {},
    },
  },
];

/** Go's JSON has `null` for nil pointers and zero Times; the decoded form leaves them out. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, dropNulls(v)])
  );
}

/** `kubectl certificate approve` stamps the current time. */
function withoutNow(obj: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(obj).replace(/"lastUpdateTime":"[^"]+"/, '"lastUpdateTime":"(now)"')) as Record<
    string,
    unknown
  >;
}

const dir = kubectlDir();

for (const [version, minor, protobuf] of [
  ['1.33', 33, true],
  ['1.27', 27, false],
] as const) {
  const binary = dir && join(dir, `kubectl.${version}`);
  describe(
    `kubectl ${version}`,
    { skip: !binary || !existsSync(binary) ? `kubectl.${version} is not installed` : false },
    () => {
      const captured: Captured[] = [];
      let server: Server;
      let tmp: string;

      before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'hubspoke-kubectl-'));
        server = createServer((req, res) => {
          serve(captured, req, res).catch((err: unknown) => {
            res.writeHead(500);
            res.end(String(err));
          });
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      });

      after(async () => {
        await new Promise((resolve) => server.close(resolve));
        rmSync(tmp, { recursive: true, force: true });
      });

      function kubectl(args: string[]): Promise<void> {
        const { port } = server.address() as AddressInfo;
        const argv = [...args, '--server', `http://127.0.0.1:${port}`, '--cache-dir', join(tmp, 'cache')];
        const env = { PATH: process.env.PATH ?? '', HOME: tmp, KUBECONFIG: join(tmp, 'kubeconfig') };
        return new Promise((resolve, reject) => {
          execFile(binary!, argv, { env, timeout: 30_000 }, (err, _stdout, stderr) =>
            err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`, { cause: err })) : resolve()
          );
        });
      }

      for (const c of cases.filter((c) => minor >= (c.since ?? 0))) {
        it(c.args.join(' '), async () => {
          captured.length = 0;
          await kubectl(c.args);
          const request = captured.find((r) => r.method === c.method);
          assert.ok(request, `no ${c.method} request`);
          assert.equal(request.path, c.path);
          const sentProtobuf = protobuf && !c.alwaysJSON;
          assert.equal(request.contentType, sentProtobuf ? 'application/vnd.kubernetes.protobuf' : 'application/json');
          const decoded = decodeBody(request.contentType, request.body);
          assert.deepEqual(withoutNow(dropNulls(decoded) as Record<string, unknown>), c.want);
          // Our encoder writes what Go writes, byte for byte.
          if (sentProtobuf) assert.deepEqual(encodeKubernetesProtobuf(decoded), request.body);
        });
      }
    }
  );
}
