import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeKubeletOptions, parseLabels, validateKubeletOptions } from './options.js';

test('KubeletConfiguration file, flags win, upstream defaults', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubelet-opts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: 10255\nmaxPods: 20\ncontainerLogMaxSize: 1Mi\nnodeLabels: {zone: a}\n'
  );
  const { options, errors } = await completeKubeletOptions({
    kubeconfig: 'kc',
    config,
    hostnameOverride: 'Node-A',
    nodeIP: '127.0.0.1',
    overrides: { port: 10260 },
  });
  assert.deepEqual(errors, []);
  assert.equal(options.port, 10260, 'the flag wins');
  assert.equal(options.maxPods, 20, 'the file beats the default');
  assert.equal(options.containerLogMaxSizeBytes, 1 << 20);
  assert.equal(options.containerLogMaxFiles, 5);
  assert.equal(options.nodeName, 'node-a', 'lower-cased as upstream');
  assert.equal(options.rootDir, '/var/lib/kubelet');
  assert.equal(options.podLogsDir, '/var/log/pods');
  assert.equal(options.nodeStatusUpdateFrequencyMs, 10_000);
  assert.equal(options.nodeStatusReportFrequencyMs, 300_000);
  assert.equal(options.nodeLeaseDurationSeconds, 40);
  assert.deepEqual(options.nodeLabels, { zone: 'a' });
  assert.deepEqual(validateKubeletOptions(options), []);
});

test('every problem is reported at once', async () => {
  const { options, errors } = await completeKubeletOptions({
    nodeIP: 'not-an-ip',
    hostnameOverride: 'bad_name',
    overrides: { nodeStatusUpdateFrequency: 'soon', containerLogMaxFiles: 1 },
  });
  const all = [...errors, ...validateKubeletOptions(options)];
  assert.deepEqual(all, [
    'nodeStatusUpdateFrequency: "soon" is not a duration',
    '--kubeconfig is required: the kubelet talks to the API server only with its own credentials',
    '--node-ip: "not-an-ip" is not an IP address',
    '--hostname-override: "bad_name" is not a valid node name (a DNS-1123 subdomain)',
    'containerLogMaxFiles: 1 must be at least 2',
    'nodeStatusUpdateFrequency: must be a positive duration',
  ]);
  assert.deepEqual(parseLabels('a=1,b=x=y'), { a: '1', b: 'x=y' });
  assert.match((parseLabels('oops') as Error).message, /invalid label "oops"/);
});
