// The real kubectl, oldest and newest supported (1.27: SPDY era, v2beta1 discovery; 1.33: aggregated v2),
// against a real control plane: every everyday command a user types on day one.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { once } from 'node:events';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { kubectl, type Kubectl } from '../framework/kubectl.js';

const manifest = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: { app: web }
data:
  greeting: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
type: Opaque
stringData:
  password: s3cret
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  serviceAccountName: web
  containers:
  - name: main
    image: busybox:1.36
    env:
    - name: GREETING
      value: hello
    ports:
    - containerPort: 8080
`;

for (const minor of [27, 33]) {
  describe(`kubectl 1.${minor}`, () => {
    let cp: TestControlPlane;
    let k: Kubectl;
    let dir: string;
    const hooks: (() => Promise<void>)[] = [];

    before(async () => {
      cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void hooks.push(fn) });
      k = kubectl(minor, cp.kubeconfigPath);
      dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubectl-'));
      await writeFile(join(dir, 'app.yaml'), manifest);
    });
    after(async () => {
      for (const h of hooks.reverse()) await h();
    });

    it('get ns lists the system namespaces', async () => {
      const out = await k.ok(['get', 'ns']);
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
        assert.match(out, new RegExp(`^${ns}\\s+Active\\s`, 'm'));
      assert.match(out, /^NAME\s+STATUS\s+AGE/);
    });

    it('create ns, then an error printed as upstream prints it', async () => {
      assert.equal((await k.ok(['create', 'ns', 'team-a'])).trim(), 'namespace/team-a created');
      const again = await k(['create', 'ns', 'team-a']);
      assert.equal(again.code, 1);
      assert.equal(again.stderr.trim(), 'Error from server (AlreadyExists): namespaces "team-a" already exists');
      const missing = await k(['get', 'pod', 'nope']);
      assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
    });

    it('apply -f a multi-document manifest, then again unchanged', async () => {
      const out = await k.ok(['apply', '-f', join(dir, 'app.yaml')]);
      for (const line of [
        'configmap/web-config created',
        'secret/web-secret created',
        'service/web created',
        'serviceaccount/web created',
        'pod/web created',
      ])
        assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
      const again = await k.ok(['apply', '-f', join(dir, 'app.yaml')]);
      // As upstream: stringData is folded into data on write, so kubectl's three-way diff always re-sends it.
      assert.ok(again.includes('secret/web-secret configured'), again);
      for (const line of [
        'configmap/web-config unchanged',
        'service/web unchanged',
        'serviceaccount/web unchanged',
        'pod/web unchanged',
      ])
        assert.ok(again.includes(line), `missing "${line}" in:\n${again}`);
    });

    it('apply --server-side takes ownership and reports it', async () => {
      const out = await k.ok(['apply', '--server-side', '--force-conflicts', '-f', join(dir, 'app.yaml')]);
      assert.match(out, /configmap\/web-config serverside-applied/);
      const cm = JSON.parse(await k.ok(['get', 'cm', 'web-config', '-o', 'json', '--show-managed-fields']));
      const managers = (cm.metadata.managedFields as { manager: string; operation: string }[]).map(
        (m) => `${m.manager}/${m.operation}`
      );
      assert.ok(managers.includes('kubectl/Apply'), managers.join(','));
    });

    it('get pods in wide, yaml and jsonpath form; the pod stays Pending', async () => {
      const wide = await k.ok(['get', 'pods', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
      assert.match(wide, /^web\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>/m);
      const yaml = await k.ok(['get', 'pod', 'web', '-o', 'yaml']);
      assert.match(yaml, /^kind: Pod$/m);
      assert.match(yaml, /imagePullPolicy: IfNotPresent/);
      assert.match(yaml, /phase: Pending/);
      assert.equal(await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[0].env[0].value}']), 'hello');
    });

    it('get all shows pods and services', async () => {
      const out = await k.ok(['get', 'all']);
      assert.match(out, /pod\/web\s+0\/1\s+Pending/);
      assert.match(out, /service\/web\s+ClusterIP\s+127\.96\.\d+\.\d+\s+<none>\s+80\/TCP/);
    });

    it('describe pod', async () => {
      const out = await k.ok(['describe', 'pod', 'web']);
      assert.match(out, /^Name:\s+web$/m);
      assert.match(out, /^Namespace:\s+default$/m);
      assert.match(out, /^Status:\s+Pending$/m);
      assert.match(out, /Image:\s+busybox:1\.36/);
    });

    it('label and annotate', async () => {
      assert.match(await k.ok(['label', 'pod', 'web', 'tier=front']), /pod\/web labeled/);
      // kubectl 1.27 prints "annotate" (its own wording), later versions "annotated".
      assert.match(await k.ok(['annotate', 'pod', 'web', 'owner=team-a']), /pod\/web annotated?$/m);
      assert.equal(await k.ok(['get', 'pods', '-l', 'tier=front', '-o', 'jsonpath={.items[*].metadata.name}']), 'web');
      assert.equal(await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-a');
      const bad = await k(['label', 'pod', 'web', 'bad key=x']);
      assert.notEqual(bad.code, 0);
    });

    it('patch: strategic merge, JSON merge and JSON patch', async () => {
      await k.ok(['patch', 'pod', 'web', '-p', '{"spec":{"containers":[{"name":"main","image":"busybox:1.37"}]}}']);
      assert.equal(
        await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[*].name} {.spec.containers[0].image}']),
        'main busybox:1.37'
      );
      await k.ok(['patch', 'cm', 'web-config', '--type', 'merge', '-p', '{"data":{"extra":"1","greeting":null}}']);
      assert.equal(await k.ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.data}']), '{"extra":"1"}');
      await k.ok([
        'patch',
        'svc',
        'web',
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/ports/0/port","value":81}]',
      ]);
      assert.equal(await k.ok(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].port}']), '81');
      const bad = await k([
        'patch',
        'svc',
        'web',
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/nope/0","value":1}]',
      ]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Error from server/);
    });

    it('edit with EDITOR set to a script', async () => {
      const editor = join(dir, 'editor.sh');
      await writeFile(editor, `#!/bin/sh\nsed -i 's/^  extra: "1"$/  extra: "2"/' "$1"\n`);
      await chmod(editor, 0o755);
      const out = await k.ok(['edit', 'cm', 'web-config'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
      assert.match(out, /configmap\/web-config edited/);
      assert.equal(await k.ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.data.extra}']), '2');
    });

    it('get -w sees a create and a delete; wait --for=delete returns', async () => {
      const watcher = k.spawn(['get', 'configmaps', '-w', '--output-watch-events']);
      let seen = '';
      watcher.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
      const waitFor = async (re: RegExp): Promise<void> => {
        for (let i = 0; i < 100 && !re.test(seen); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(seen, re);
      };
      try {
        await waitFor(/web-config/);
        await k.ok(['create', 'configmap', 'watched', '--from-literal=a=b']);
        await waitFor(/ADDED\s+watched/);
        const waiting = k(['wait', '--for=delete', 'configmap/watched', '--timeout=30s']);
        await k.ok(['delete', 'configmap', 'watched']);
        await waitFor(/DELETED\s+watched/);
        const w = await waiting;
        assert.equal(w.code, 0, w.stderr);
      } finally {
        watcher.kill('SIGTERM');
        await once(watcher, 'close');
      }
    });

    it('explain pod.spec.containers and api-resources', async () => {
      const explain = await k.ok(['explain', 'pod.spec.containers']);
      assert.match(explain, /KIND:\s+Pod/);
      assert.match(explain, /image\s+<string>/);
      const resources = await k.ok(['api-resources']);
      assert.match(resources, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(resources, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
      assert.match(resources, /^clusterroles\s+rbac\.authorization\.k8s\.io\/v1\s+false\s+ClusterRole$/m);
    });

    it('invalid objects get 422 naming every field; bad YAML gets 400', async () => {
      const bad = join(dir, 'bad.yaml');
      await writeFile(
        bad,
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: ""\n'
      );
      const r = await k(['create', '-f', bad]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /The Pod "Bad_Name" is invalid/);
      assert.match(r.stderr, /metadata\.name: Invalid value: "Bad_Name"/);
      assert.match(r.stderr, /spec\.containers\[0\]\.name: Required value/);
      assert.match(r.stderr, /spec\.containers\[0\]\.image: Required value/);
    });

    it('events.k8s.io/v1 and core/v1 Events are one resource', async () => {
      const ev = join(dir, 'event.yaml');
      await writeFile(
        ev,
        'apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: web.1\neventTime: "2026-11-22T20:00:00.000000Z"\n' +
          'reportingController: example.com/ctl\nreportingInstance: ctl-1\naction: Testing\nreason: Tested\n' +
          'regarding:\n  kind: Pod\n  name: web\n  namespace: default\nnote: seen through both versions\ntype: Normal\n'
      );
      await k.ok(['create', '-f', ev]);
      assert.equal(
        await k.ok(['get', 'events.v1.', 'web.1', '-o', 'jsonpath={.message} {.involvedObject.name}']),
        'seen through both versions web'
      );
      assert.equal(
        await k.ok(['get', 'events.v1.events.k8s.io', 'web.1', '-o', 'jsonpath={.note}']),
        'seen through both versions'
      );
    });

    it('delete, and namespace deletion removes its content', async () => {
      await k.ok(['create', 'configmap', 'doomed', '-n', 'team-a', '--from-literal=x=y']);
      assert.match(await k.ok(['delete', 'pod', 'web', '--wait=true']), /pod "web" deleted/);
      assert.match(await k.ok(['delete', 'ns', 'team-a', '--timeout=60s']), /namespace "team-a" deleted/);
      const gone = await k(['get', 'ns', 'team-a']);
      assert.equal(gone.stderr.trim(), 'Error from server (NotFound): namespaces "team-a" not found');
    });
  });
}
