// `hubspoke up --egress-selector-config-file`, as `hubspoke server` takes it: a bad file is refused before anything
// starts, naming the flag and the field; `Direct` for the cluster selection makes the API server dial its node's
// kubelet itself (said in the log at start), and logs and exec work that way with the real kubectl.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kubectl } from '../framework/kubectl.js';
import { startUp } from '../framework/up.js';

const mainScript = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const egressConfiguration = (proxyProtocol: string): string =>
  [
    'apiVersion: apiserver.k8s.io/v1beta1',
    'kind: EgressSelectorConfiguration',
    'egressSelections:',
    '- name: cluster',
    `  connection: { proxyProtocol: ${proxyProtocol} }`,
    '',
  ].join('\n');

test('up --egress-selector-config-file: a bad file is refused naming the field; Direct dials the kubelet itself', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hubspoke-up-egress-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, egressConfiguration('Carrier'));
  const dataDir = join(dir, 'refused');
  const refused = spawnSync(
    process.execPath,
    [
      ...['--import', 'tsx', mainScript, 'up', '--data-dir', dataDir],
      ...['--secure-port', '0', '--kubelet-port', '0', '--egress-selector-config-file', bad],
    ],
    { encoding: 'utf8', timeout: 60_000 }
  );
  assert.notEqual(refused.status, 0);
  assert.match(
    refused.stderr,
    /--egress-selector-config-file: .*egressSelections\[0\]\.connection\.proxyProtocol: Unsupported value: "Carrier"/
  );
  // Refused before anything was written.
  assert.equal(existsSync(dataDir) ? readdirSync(dataDir).length : 0, 0);

  const good = join(dir, 'direct.yaml');
  writeFileSync(good, egressConfiguration('Direct'));
  const up = await startUp(t, { nodeName: 'egress-node', args: ['--egress-selector-config-file', good] });
  const said = up
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; cluster?: string })
    .find((l) => l.msg === 'egress dialers');
  assert.equal(said?.cluster, 'direct');

  const k = kubectl(33, up.kubeconfigPath);
  await k.ok([
    'run',
    'talker',
    '--image=host',
    '--restart=Never',
    '--command',
    '--',
    'sh',
    '-c',
    'echo hello; exec sleep 600',
  ]);
  await k.ok(['wait', '--for=condition=Ready', 'pod/talker', '--timeout=60s']);
  assert.equal(await k.ok(['logs', 'talker']), 'hello\n');
  assert.equal(await k.ok(['exec', 'talker', '--', 'echo', 'hi']), 'hi\n');
});
