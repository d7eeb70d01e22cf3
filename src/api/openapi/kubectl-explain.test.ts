// The real kubectl reads our documents: a bare node:http server serves legacy discovery plus /openapi/*, and
// `kubectl explain` (which reads /openapi/v3 since 1.27) must find the kinds, fields and descriptions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OpenAPIService, groupVersionPath } from './index.js';
import { servedResources } from './testdata.js';

const run = promisify(execFile);

/** Legacy (unaggregated) discovery documents for the served resources. */
function discovery(path: string): unknown {
  const gvs = [...new Set(servedResources.map(groupVersionPath))];
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/apis') {
    const groups = gvs
      .filter((gv) => gv.startsWith('apis/'))
      .map((gv) => {
        const [, name, version] = gv.split('/') as [string, string, string];
        const v = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [v], preferredVersion: v };
      });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const gv = path.slice(1);
  if (!gvs.includes(gv)) return undefined;
  const resources = servedResources
    .filter((r) => groupVersionPath(r) === gv)
    .flatMap((r) => [
      {
        name: r.resource,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      },
      ...(r.subresources ?? []).map((s) => ({
        name: `${r.resource}/${s}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get'],
      })),
    ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv.replace(/^apis?\//, ''), resources };
}

describe('kubectl explain against /openapi', { timeout: 120_000 }, () => {
  const openapi = new OpenAPIService(servedResources, { version: 'v1.33.0' });
  let server: Server;
  let base: string;
  let cacheDir: string;
  let binDir: string;
  const posts: string[] = [];

  before(async () => {
    binDir = dirname(await realpath((await run('which', ['kubectl'])).stdout.trim()));
    cacheDir = await mkdtemp(join(tmpdir(), 'hubspoke-openapi-'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const served = openapi.respond(url.pathname, url.searchParams, {
        accept: req.headers.accept,
        ifNoneMatch: req.headers['if-none-match'],
      });
      if (req.method === 'POST') {
        posts.push(req.url ?? '');
        req.pipe(res.writeHead(201, { 'Content-Type': 'application/json' }));
        return;
      }
      if (served) {
        res.writeHead(served.status, served.headers).end(served.body);
        return;
      }
      const body =
        url.pathname === '/version' ? { major: '1', minor: '33', gitVersion: 'v1.33.0' } : discovery(url.pathname);
      res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(cacheDir, { recursive: true, force: true });
  });

  const kubectl = async (binary: string, ...args: string[]): Promise<string> => {
    const kubeconfig = join(cacheDir, 'no-kubeconfig');
    const { stdout } = await run(
      join(binDir, binary),
      ['--server', base, '--cache-dir', join(cacheDir, binary), ...args],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      }
    );
    return stdout;
  };

  it('kubectl 1.33 - explain pod.spec.containers shows fields and descriptions', async () => {
    const out = await kubectl('kubectl.1.33', 'explain', 'pod.spec.containers');
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /FIELD: containers <\[\]Container>/);
    assert.match(out, /A single application container that you want to run within a pod\./);
    assert.match(out, /^ {2}image\t<string>/m);
    assert.match(out, /Container image name\. More info:/);
    assert.match(out, /^ {2}name\t<string> -required-/m);
    assert.match(out, /^ {2}imagePullPolicy\t<string>\n {2}enum: Always, IfNotPresent, Never/m);
  });

  it('kubectl 1.27 - explain pods shows the kind', async () => {
    const out = await kubectl('kubectl.1.27', 'explain', 'pods');
    assert.match(out, /KIND:\s+Pod\nVERSION:\s+v1/);
    assert.match(out, /Pod is a collection of containers that can run on a host\./);
    assert.match(out, /^ {2}spec\t<PodSpec>/m);
    assert.match(out, /^ {2}metadata\t<ObjectMeta>/m);
  });

  it('kubectl 1.33 - explain pod --recursive walks nested types', async () => {
    const out = await kubectl('kubectl.1.33', 'explain', 'pod', '--recursive');
    assert.match(out, /^ {4}containers\t<\[\]Container> -required-$/m);
    assert.match(out, /^ {6}ports\t<\[\]ContainerPort>$/m);
    assert.match(out, /^ {8}containerPort\t<integer> -required-$/m);
    assert.match(out, /^ {4}creationTimestamp\t<string>$/m);
  });

  it('kubectl 1.33 - plaintext-openapiv2 reads the v2 protobuf document', async () => {
    const out = await kubectl('kubectl.1.33', 'explain', 'pod.metadata', '--output', 'plaintext-openapiv2');
    assert.match(out, /RESOURCE: metadata <Object>/);
    assert.match(out, /ObjectMeta is metadata that all persisted resources must have/);
    assert.match(out, /^ {3}annotations\t<map\[string\]string>/m);
  });

  for (const binary of ['kubectl.1.27', 'kubectl.1.33']) {
    it(`${binary} - create leaves validation to the server (fieldValidation=Strict)`, async () => {
      const manifest = join(cacheDir, 'pod.json');
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } };
      await writeFile(manifest, JSON.stringify({ ...pod, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
      posts.length = 0;
      assert.match(await kubectl(binary, 'create', '-f', manifest), /pod\/p created/);
      assert.deepEqual(posts, ['/api/v1/namespaces/default/pods?fieldManager=kubectl-create&fieldValidation=Strict']);
    });
  }

  it('kubectl 1.33 - explain resolves a group/version kind', async () => {
    const out = await kubectl('kubectl.1.33', 'explain', 'leases.spec');
    assert.match(out, /GROUP:\s+coordination\.k8s\.io/);
    assert.match(out, /holderIdentity\t<string>/);
    assert.match(out, /renewTime\t<string>/);
  });
});
