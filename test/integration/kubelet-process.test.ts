// A kubelet in its own process, killed with SIGKILL mid-flight: its pod keeps running and the next
// kubelet process adopts it (same container, no restart), then stops it when the pod is deleted.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { issueCertificate, kubeconfig, writeKeyFile } from '../../src/pki/index.js';
import { processAlive } from '../../src/kubelet/runtime/state.js';
import { startTestControlPlane } from '../framework/control-plane.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a kubelet process killed with SIGKILL leaves its pod running; the next one adopts it', async () => {
  const cp = await startTestControlPlane({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
  const { ca, admin: a } = cp.server.pki;
  const admin = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: a.cert, keyPem: a.key });
  cleanups.push(() => admin.close());
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubelet-cli-'));
  const rootDir = join(dir, 'root');
  cleanups.push(async () => {
    // Whatever is still running from the kubelets' records is stopped by pid.
    for (const id of await readdir(join(rootDir, 'containers')).catch(() => [] as string[])) {
      const st = await readFile(join(rootDir, 'containers', id, 'state.json'), 'utf8').catch(() => '');
      const pid = st ? (JSON.parse(st) as { shimPid?: number }).shimPid : undefined;
      if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  const cert = await issueCertificate({
    ca,
    commonName: 'system:node:cli-node',
    organizations: ['system:nodes'],
    usages: ['client'],
    validityMs: 3600_000,
  });
  const kc = join(dir, 'kubelet.kubeconfig');
  await writeKeyFile(
    kc,
    kubeconfig({ server: cp.url, caPem: ca.cert, clientCertPem: cert.cert, clientKeyPem: cert.key })
  );
  const config = join(dir, 'config.yaml');
  await writeFile(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 20\n');

  const kubelets = new Set<ChildProcess>();
  let stderr = '';
  cleanups.push(() => {
    for (const p of kubelets) if (p.exitCode === null) p.kill('SIGKILL');
  });
  const startKubelet = (): ChildProcess => {
    const opts = {
      kubeconfig: kc,
      config,
      hostnameOverride: 'cli-node',
      nodeIP: '127.0.0.1',
      rootDir,
      overrides: { podLogsDir: join(dir, 'logs'), nodeLabels: { tier: 'test' } },
    };
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/framework/kubelet-process.ts', JSON.stringify(opts)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    kubelets.add(p);
    return p;
  };

  const first = startKubelet();
  const node = await until('the node', 90_000, async () => {
    const n = await admin.get<any>('/api/v1/nodes/cli-node');
    return n.status?.capacity && n;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; the kubelet said: ${stderr}`);
  });
  assert.equal(node.status.capacity.pods, '20');
  assert.equal(node.metadata.labels.tier, 'test');

  await admin.request('POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'keeper' },
    spec: {
      nodeName: 'cli-node',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', 'while :; do sleep 0.2; done'] }],
    },
  });
  const running = await until('keeper Running', 30_000, async () => {
    const p = await admin.get<Pod>('/api/v1/namespaces/default/pods/keeper');
    return p.status?.containerStatuses?.[0]?.state?.running && p;
  });
  const id = running.status!.containerStatuses![0]!.containerID!;
  const state = JSON.parse(
    await readFile(join(rootDir, 'containers', id.slice('bwrap://'.length), 'state.json'), 'utf8')
  ) as { pid: number };

  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  assert.ok(processAlive(state.pid), 'the container outlived its kubelet');

  startKubelet();
  // Adopted: the new kubelet writes a status with the same container and no restart.
  await until('the new kubelet to take over', 90_000, async () => {
    const lease = await admin.get<any>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/cli-node');
    return Date.now() - Date.parse(lease.spec.renewTime) < 2000;
  });
  await new Promise((r) => setTimeout(r, 1500));
  const after = await admin.get<Pod>('/api/v1/namespaces/default/pods/keeper');
  const cs = after.status!.containerStatuses![0]!;
  assert.equal(cs.containerID, id);
  assert.equal(cs.restartCount, 0);
  assert.ok(cs.state?.running);

  await admin.request('DELETE', '/api/v1/namespaces/default/pods/keeper');
  await until('keeper gone', 10_000, async () => {
    try {
      await admin.get('/api/v1/namespaces/default/pods/keeper');
      return false;
    } catch {
      return true;
    }
  });
  assert.ok(!processAlive(state.pid), 'the adopted container was stopped');
});
