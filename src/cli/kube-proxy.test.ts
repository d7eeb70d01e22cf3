// `hubspoke kube-proxy`'s mode choice without the right to change the firewall (CAP_NET_ADMIN dropped from the
// bounding set with setpriv, so even root lacks it). With it, nftables is the default: the restart in
// test/integration/kube-proxy-nftables.test.ts runs with no --proxy-mode.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const mainScript = fileURLToPath(new URL('./main.ts', import.meta.url));

function kubeProxyWithoutNetAdmin(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      'setpriv',
      ['--bounding-set=-net_admin', process.execPath, '--import', 'tsx', mainScript, 'kube-proxy', ...args],
      { env: { ...process.env, HUBSPOKE_LOG_FORMAT: 'json' }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr })
    )
  );
}

test('without CAP_NET_ADMIN: userspace by default, and --proxy-mode=nftables is refused', async () => {
  // The mode is chosen before the kubeconfig is read, so a missing one ends the run right after.
  const dflt = await kubeProxyWithoutNetAdmin(['--kubeconfig', '/nonexistent/kubeconfig']);
  assert.match(dflt.stderr, /"mode":"userspace".*proxy mode chosen/);
  assert.notEqual(dflt.code, 0);
  const forced = await kubeProxyWithoutNetAdmin(['--kubeconfig', '/nonexistent/kubeconfig', '--proxy-mode=nftables']);
  assert.match(forced.stderr, /--proxy-mode=nftables: this process cannot change nftables/);
  assert.notEqual(forced.code, 0);
  const bad = await kubeProxyWithoutNetAdmin(['--proxy-mode=iptables', '--nodeport-addresses=10.0.0.0/33']);
  assert.match(bad.stderr, /--kubeconfig is required/);
  assert.match(bad.stderr, /--proxy-mode: "iptables" is not supported \(nftables, userspace\)/);
  assert.match(bad.stderr, /--nodeport-addresses/);
});
