// The hubspoke `SSH` proxyProtocol of --egress-selector-config-file: decoded strictly, validated, and built into
// an SSHDialer by the same table as upstream's protocols.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sshKeyPair } from '../../../../test/framework/sshd.js';
import { pino } from 'pino';
import { parseEgressSelectorConfiguration } from '../config.js';
import { egressDialers } from '../protocols.js';
import { SSHDialer } from './dialer.js';

const config = (transport: string): string => `apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: SSH
    transport: ${transport}
`;

test('an SSH connection in the egress selector configuration builds an SSH dialer for its selection', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-ssh-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = await sshKeyPair(dir, 'apiserver');
  const parsed = parseEgressSelectorConfiguration(
    config(`{ssh: {user: root, keyFile: ${key.privateKeyFile}, port: 2222}}`),
    'test.yaml'
  );
  assert.deepEqual(parsed.egressSelections[0]!.connection.transport, {
    ssh: { user: 'root', keyFile: key.privateKeyFile, port: 2222 },
  });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  const dialers = await egressDialers(parsed, {
    log,
    preferredAddressTypes: ['InternalIP'],
    dialTimeoutMs: 1000,
  });
  assert.ok(dialers.cluster instanceof SSHDialer);
  assert.equal(dialers.cluster.name, 'ssh');
  dialers.cluster.close?.();
  // Deprecated, as upstream: said at start, with the way out.
  const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40);
  assert.match(warning?.msg ?? '', /SSH tunnels .* are deprecated.*use Konnectivity/);
});

test('bad SSH connections name every problem by its path', () => {
  assert.throws(
    () => parseEgressSelectorConfiguration(config('{ssh: {port: 0, extra: 1}}'), 'bad.yaml'),
    (err: Error) => {
      assert.match(err.message, /egressSelections\[0\]\.connection\.transport\.ssh\.extra/);
      assert.match(err.message, /transport\.ssh\.user: Required value/);
      assert.match(err.message, /transport\.ssh\.keyFile: Required value/);
      assert.match(err.message, /transport\.ssh\.port: Invalid value/);
      return true;
    }
  );
  assert.throws(
    () => parseEgressSelectorConfiguration(config('{uds: {udsName: /x}}'), 'bad.yaml'),
    /transport\.ssh: Required value: ssh must be set with SSH/
  );
});
