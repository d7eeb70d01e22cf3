// Leader election against a real API server: one leader among candidates, hand-over after a crash within the
// lease duration, hand-back on a clean stop, and a leader that cannot renew stops leading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderElector, type LeaderElectionOptions } from '../../src/controllers/leaderelection.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { silentLogger } from '../../src/lib/log.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';

const fast: LeaderElectionOptions = {
  namespace: 'kube-system',
  name: 'test-election',
  leaseDurationMs: 2000,
  renewDeadlineMs: 1500,
  retryPeriodMs: 250,
};

function adminClient(cp: TestControlPlane): KubeClient {
  const { ca, admin } = cp.server.pki;
  return new KubeClient({ server: cp.url, caPem: ca.cert, certPem: admin.cert, keyPem: admin.key });
}

interface Candidate {
  elector: LeaderElector;
  stop: AbortController;
  leading: () => boolean;
  stoppedAt: number | undefined;
  done: Promise<void>;
}

function candidate(client: KubeClient, opts: LeaderElectionOptions, identity: string): Candidate {
  const stop = new AbortController();
  let leading = false;
  const c: Candidate = {
    stop,
    leading: () => leading,
    stoppedAt: undefined,
  } as Candidate;
  c.elector = new LeaderElector(
    client,
    { ...opts, identity },
    {
      onStartedLeading: () => {
        leading = true;
      },
      onStoppedLeading: () => {
        leading = false;
        c.stoppedAt = Date.now();
      },
    },
    silentLogger
  );
  c.done = c.elector.run(stop.signal);
  return c;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/test-election';

test('leader election - one leader; a crashed leader is replaced within the lease duration', async (t) => {
  const cp = await startTestControlPlane(t);
  const client = adminClient(cp);
  t.after(() => client.close());
  const a = candidate(client, { ...fast, releaseOnCancel: false }, 'host-a_1');
  const b = candidate(client, { ...fast, releaseOnCancel: false }, 'host-b_2');
  t.after(() => {
    a.stop.abort();
    b.stop.abort();
  });
  await until('a leader', () => a.leading() || b.leading(), 5000);
  await sleep(1000); // several renewals: still exactly one
  assert.notEqual(a.leading(), b.leading());
  const [leader, standby] = a.leading() ? [a, b] : [b, a];
  const lease = await client.get(leasePath);
  assert.equal(lease.spec.holderIdentity, leader.elector.identity);
  assert.equal(lease.spec.leaseDurationSeconds, 2);
  assert.equal(lease.spec.leaseTransitions, 0);
  assert.match(lease.spec.renewTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  assert.ok(lease.spec.renewTime > lease.spec.acquireTime, 'renewed since acquired');
  assert.equal(standby.elector.leader, leader.elector.identity);

  // A crash: the leader stops renewing without handing the lease back.
  leader.stop.abort();
  await leader.done;
  const tookMs = await until('the standby to lead', () => standby.leading(), 5000);
  assert.ok(tookMs <= 2000 + 2 * 250 * 2.2 + 500, `took over in ${tookMs} ms`);
  const after = await client.get(leasePath);
  assert.equal(after.spec.holderIdentity, standby.elector.identity);
  assert.equal(after.spec.leaseTransitions, 1);
});

test('leader election - a clean stop hands the lease back; a stolen lease stops the leader', async (t) => {
  const cp = await startTestControlPlane(t);
  const client = adminClient(cp);
  t.after(() => client.close());
  const a = candidate(client, fast, 'host-a_1');
  t.after(() => a.stop.abort());
  await until('a to lead', () => a.leading(), 5000);
  const b = candidate(client, { ...fast, leaseDurationMs: 30_000, renewDeadlineMs: 20_000 }, 'host-b_2');
  t.after(() => b.stop.abort());
  await sleep(500);
  assert.equal(b.leading(), false);
  a.stop.abort();
  await a.done;
  // b would wait 30 s for an expired lease; a released one it takes at its next attempt.
  await until('b to lead after the release', () => b.leading(), 2000);

  // Someone else takes the lease (an operator, a split brain): b sees it at its next renewal and stops.
  const lease = await client.get(leasePath);
  await client.request('PUT', leasePath, { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder' } });
  await until('b to stop leading', () => !b.leading(), 2000);
});

test('leader election - a leader that cannot reach the API server stops leading after renewDeadline', async (t) => {
  const cp = await startTestControlPlane(t);
  const client = adminClient(cp);
  t.after(() => client.close());
  const a = candidate(client, fast, 'host-a_1');
  t.after(() => a.stop.abort());
  await until('a to lead', () => a.leading(), 5000);
  const cutAt = Date.now();
  await cp.server.close();
  await until('a to stop leading', () => !a.leading(), 4000);
  const ms = a.stoppedAt! - cutAt;
  assert.ok(ms >= 1000 && ms <= 1500 + 2 * 250 + 500, `stopped ${ms} ms after losing the API server`);
});
