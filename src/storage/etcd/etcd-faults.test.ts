// The etcd store under member failures, on a real three-member cluster: losing one member (the leader) loses no
// acknowledged write and writes go on; losing all of them makes every call fail fast with Unavailable, ends
// watches with it, and the store recovers by itself when the members return.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcdCluster } from '../../../test/framework/etcd.js';
import { startCompaction } from '../compactor.js';
import { checkStore } from '../index.js';
import { isStorageError } from '../interface.js';
import type { Store, WatchEvent } from '../interface.js';
import { EtcdStore } from './etcd-store.js';

const cluster = await startEtcdCluster({ after });
let prefixes = 0;

/** A store on its own prefix; a short request timeout keeps the waits for lost proposals and dead streams short. */
async function openStore(servers = cluster.endpoints, requestTimeoutMs = 2_000): Promise<EtcdStore> {
  const store = await EtcdStore.open({
    servers,
    requestTimeoutMs,
    caFile: cluster.caFile,
    certFile: cluster.certFile,
    keyFile: cluster.keyFile,
    prefix: `/faults-${prefixes++}`,
  });
  after(() => store.close());
  return store;
}

/** Collects a watch's events in the background; `error` is how it ended, if it did with an error. */
function collect(store: Store, prefix: string, afterRevision: number) {
  const watch = store.watch(prefix, { afterRevision });
  const state = { events: [] as WatchEvent[], error: undefined as unknown, ended: false };
  void (async () => {
    try {
      for await (const event of watch) state.events.push(event);
    } catch (err) {
      state.error = err;
    }
    state.ended = true;
  })();
  return { watch, state };
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('EtcdStore faults', { timeout: 60_000 }, () => {
  it('kill -9 of the leader during a write loop - no acknowledged write is lost and writes go on', async () => {
    const store = await openStore();
    const r0 = await store.currentRevision();
    const watched = collect(store, '/registry/configmaps/', r0);
    const acknowledged = new Map<string, number>();
    let failed = 0;
    const unexpected: unknown[] = [];
    let stop = false;
    let afterKill = 0;
    let killed = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = `/registry/configmaps/ns/w${w}-${i}`;
        try {
          const kv = await store.create(key, JSON.stringify({ w, i }));
          acknowledged.set(key, kv.modRevision);
          if (killed) afterKill++;
        } catch (err) {
          // A write in flight when its member died may fail (with an unknown outcome); it was not acknowledged.
          if (isStorageError(err, 'Unavailable') || isStorageError(err, 'Timeout')) failed++;
          else unexpected.push(err);
        }
      }
    });
    try {
      await waitFor('100 writes', 10_000, () => acknowledged.size >= 100);
      const leader = await cluster.leader();
      await cluster.kill(leader);
      killed = true;
      // Proposals a follower forwarded to the dead leader are lost; etcd answers them only when their deadline
      // passes, so the writers may stall for that long before the new leader takes writes.
      await waitFor('200 writes after the kill', 20_000, () => afterKill >= 200);
    } finally {
      stop = true;
      await Promise.allSettled(writers);
    }
    assert.deepEqual(unexpected, []);
    assert.ok(failed <= 8, `${failed} writes failed`);

    const { items } = await store.list('/registry/configmaps/');
    const stored = new Map(items.map((kv) => [kv.key, kv.modRevision]));
    for (const [key, revision] of acknowledged) assert.equal(stored.get(key), revision, key);
    // The watch rode out the member's death: every acknowledged write, in revision order, nothing twice.
    await waitFor('the watch to catch up', 10_000, () => watched.state.events.length >= stored.size);
    watched.watch.close();
    assert.equal(watched.state.error, undefined);
    const revisions = watched.state.events.map((e) => e.kv.modRevision);
    assert.deepEqual(
      revisions,
      [...stored.values()].sort((a, b) => a - b)
    );
    await cluster.restart(...cluster.members.flatMap((m, i) => (m.pid === undefined ? [i] : [])));
  });

  it('all members down - calls fail fast with Unavailable, watches end, and the store recovers', async () => {
    // The default deadline (5 s): failing well within it shows the circuits, not the deadline, make it fast.
    const store = await openStore(cluster.endpoints, 5_000);
    const kv = await store.create('/registry/pods/ns/a', 'a1');
    const watched = collect(store, '/registry/pods/', kv.modRevision);
    await sleep(100); // let the watch stream open before the cluster goes away
    await Promise.all(cluster.members.map((_, i) => cluster.kill(i)));

    for (const call of [
      () => store.get(kv.key),
      () => store.create('/registry/pods/ns/b', 'b1'),
      () => store.update(kv.key, 'a2', kv.modRevision),
      () => store.list('/registry/pods/'),
    ]) {
      const started = Date.now();
      await assert.rejects(call(), (err) => {
        assert.ok(isStorageError(err, 'Unavailable'), String(err));
        assert.match(err.message, /^etcd cluster is unavailable or misconfigured: /);
        return true;
      });
      assert.ok(Date.now() - started < 3_000, `failed after ${Date.now() - started} ms`);
    }
    const started = Date.now();
    await assert.rejects(checkStore(store));
    assert.ok(Date.now() - started < 3_000);
    // A broken watch ends with an error (after its reconnect window), so its consumer re-lists.
    await waitFor('the watch to end', 10_000, () => watched.state.ended);
    assert.ok(isStorageError(watched.state.error, 'Unavailable'), String(watched.state.error));

    await cluster.restart(0, 1, 2);
    await waitFor('the store to recover', 10_000, async () => {
      try {
        await store.get(kv.key);
        return true;
      } catch {
        return false;
      }
    });
    const updated = await store.update(kv.key, 'a2', kv.modRevision);
    const again = collect(store, '/registry/pods/', kv.modRevision);
    await waitFor('a new watch to replay the update', 5_000, () => again.state.events.length === 1);
    assert.deepEqual(again.state.events[0], { type: 'put', kv: updated });
    again.watch.close();
  });

  it('a member cut off from the quorum - its watches end with Unavailable instead of going quiet', async () => {
    const survivor = 0;
    const store = await openStore([cluster.endpoints[survivor]!]);
    const r0 = await store.currentRevision();
    const watched = collect(store, '/registry/pods/', r0);
    await store.create('/registry/pods/ns/a', 'a1');
    await waitFor('the watch to start', 5_000, () => watched.state.events.length === 1);
    await Promise.all([1, 2].map((i) => cluster.kill(i)));
    // etcd ends a watch stream that asked for a leader once its member has none; the store cannot reopen it.
    await waitFor('the watch to end', 15_000, () => watched.state.ended);
    assert.ok(isStorageError(watched.state.error, 'Unavailable'), String(watched.state.error));
    await cluster.restart(1, 2);
  });

  it('startCompaction - compacts an etcd store on its schedule, keeping the window readable', async () => {
    const store = await openStore();
    const stop = startCompaction(store, { intervalMs: 10, keepRevisions: 3 });
    try {
      let last = await store.create('/registry/events/ns/e', '0');
      for (let i = 1; i < 10; i++) last = await store.update(last.key, String(i), last.modRevision);
      const target = last.modRevision - 3;
      await waitFor('compaction', 5_000, async () => (await store.compactedRevision()) === target);
      await assert.rejects(store.list('/registry/events/', { revision: target }), (err) =>
        isStorageError(err, 'Compacted')
      );
      assert.equal((await store.list('/registry/events/', { revision: target + 1 })).items[0]?.value, '7');
    } finally {
      stop();
    }
  });
});
