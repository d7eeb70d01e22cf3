// The behaviour every Store must have (k8s staging/src/k8s.io/apiserver/pkg/storage/testing/store_tests.go): each
// backend's test file calls runStorageConformance. It uses only the Store interface and never assumes absolute
// revisions (etcd starts at 1, and a backend may share its revision space), so every expectation is relative to
// the revision a test starts from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageError } from './interface.js';
import type { KeyValue, StorageErrorCode, Store, Watch, WatchEvent, WatchOptions } from './interface.js';

export type MakeStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const eventTimeoutMs = 5_000;

/** Registers the conformance cases for one backend. `makeStore` gives each case a fresh, empty store. */
export function runStorageConformance(name: string, makeStore: MakeStore): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await makeStore();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`${name} storage conformance`, { timeout: 60_000 }, () => {
    describe('writes', () => {
      it(
        'create - returns the key at the next revision and get reads it back',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const kv = await store.create('/registry/pods/default/a', '{"a":1}');
          assert.deepEqual(kv, kvAt('/registry/pods/default/a', '{"a":1}', r0 + 1, r0 + 1));
          assert.deepEqual(await store.get('/registry/pods/default/a'), kv);
          assert.equal(await store.currentRevision(), r0 + 1);
        })
      );

      it(
        'create - an existing key fails with KeyExists and takes no revision',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          await assert.rejects(store.create('/registry/pods/default/a', '2'), storageError('KeyExists', kv.key));
          assert.deepEqual(await store.get(kv.key), kv);
          assert.equal(await store.currentRevision(), kv.modRevision);
        })
      );

      it(
        'create - a deleted key can be created again with a new createRevision',
        withStore(async (store) => {
          const first = await store.create('/registry/pods/default/a', '1');
          await store.delete(first.key);
          const again = await store.create(first.key, '2');
          assert.deepEqual(again, kvAt(first.key, '2', first.modRevision + 2, first.modRevision + 2));
          assert.deepEqual(await store.get(first.key), again);
        })
      );

      it(
        'get - a missing or deleted key is null',
        withStore(async (store) => {
          assert.equal(await store.get('/registry/pods/default/missing'), null);
          const kv = await store.create('/registry/pods/default/gone', '1');
          await store.delete(kv.key);
          assert.equal(await store.get(kv.key), null);
        })
      );

      it(
        'update - at the current revision writes the value and keeps createRevision',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          const updated = await store.update(kv.key, '2', kv.modRevision);
          assert.deepEqual(updated, kvAt(kv.key, '2', kv.createRevision, kv.modRevision + 1));
          assert.deepEqual(await store.get(kv.key), updated);
        })
      );

      it(
        'update - at a stale revision fails with Conflict carrying the current value',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          const current = await store.update(kv.key, '2', kv.modRevision);
          await assert.rejects(store.update(kv.key, '3', kv.modRevision), (err) => {
            assert.ok(isStorageError(err, 'Conflict'), String(err));
            assert.equal(err.key, kv.key);
            assert.deepEqual(err.current, current);
            return true;
          });
          assert.deepEqual(await store.get(kv.key), current);
          assert.equal(await store.currentRevision(), current.modRevision);
        })
      );

      it(
        'update - a missing or deleted key fails with KeyNotFound',
        withStore(async (store) => {
          await assert.rejects(store.update('/registry/pods/default/missing', '1', 1), storageError('KeyNotFound'));
          const kv = await store.create('/registry/pods/default/gone', '1');
          const deleted = await store.delete(kv.key);
          await assert.rejects(store.update(kv.key, '2', kv.modRevision), storageError('KeyNotFound', kv.key));
          await assert.rejects(store.update(kv.key, '2', deleted.modRevision), storageError('KeyNotFound', kv.key));
        })
      );

      it(
        'delete - returns the last value at the delete revision',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          const updated = await store.update(kv.key, '2', kv.modRevision);
          const deleted = await store.delete(kv.key);
          assert.deepEqual(deleted, kvAt(kv.key, '2', kv.createRevision, updated.modRevision + 1));
          assert.equal(await store.get(kv.key), null);
          assert.equal(await store.currentRevision(), deleted.modRevision);
        })
      );

      it(
        'delete - a missing key fails with KeyNotFound',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          await assert.rejects(store.delete('/registry/pods/default/missing'), storageError('KeyNotFound'));
          await assert.rejects(store.delete('/registry/pods/default/missing', 1), storageError('KeyNotFound'));
          assert.equal(await store.currentRevision(), r0);
        })
      );

      it(
        'delete - a stale expected revision fails with Conflict and keeps the key',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          const current = await store.update(kv.key, '2', kv.modRevision);
          await assert.rejects(store.delete(kv.key, kv.modRevision), (err) => {
            assert.ok(isStorageError(err, 'Conflict'), String(err));
            assert.deepEqual(err.current, current);
            return true;
          });
          assert.deepEqual(await store.get(kv.key), current);
          const deleted = await store.delete(kv.key, current.modRevision);
          assert.equal(deleted.modRevision, current.modRevision + 1);
        })
      );

      it(
        'revisions - every write takes the next global revision across keys; failed writes take none',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const a = '/registry/pods/default/a';
          const b = '/registry/services/default/b';
          const revisions: number[] = [];
          revisions.push((await store.create(a, '1')).modRevision);
          await assert.rejects(store.create(a, '1'), storageError('KeyExists'));
          await assert.rejects(store.update(a, '2', r0), storageError('Conflict'));
          revisions.push((await store.create(b, '1')).modRevision);
          revisions.push((await store.update(a, '2', r0 + 1)).modRevision);
          revisions.push((await store.delete(b)).modRevision);
          await assert.rejects(store.delete(b), storageError('KeyNotFound'));
          revisions.push((await store.create(b, '2')).modRevision);
          assert.deepEqual(revisions, [r0 + 1, r0 + 2, r0 + 3, r0 + 4, r0 + 5]);
          assert.equal(await store.currentRevision(), r0 + 5);
        })
      );

      it(
        'update - concurrent updates at the same revision: exactly one wins',
        withStore(async (store) => {
          const kv = await store.create('/registry/leases/kube-system/leader', 'none');
          const contenders = ['a', 'b', 'c', 'd', 'e'];
          const results = await Promise.allSettled(contenders.map((v) => store.update(kv.key, v, kv.modRevision)));
          const won = results.filter((r) => r.status === 'fulfilled');
          assert.equal(won.length, 1);
          for (const r of results) {
            if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'Conflict'), String(r.reason));
          }
          assert.deepEqual(await store.get(kv.key), won[0]?.value);
          assert.equal(await store.currentRevision(), kv.modRevision + 1);
        })
      );

      it(
        'create - concurrent creates of one key: exactly one wins',
        withStore(async (store) => {
          const key = '/registry/namespaces/race';
          const results = await Promise.allSettled(['1', '2', '3', '4'].map((v) => store.create(key, v)));
          const won = results.filter((r) => r.status === 'fulfilled');
          assert.equal(won.length, 1);
          for (const r of results) {
            if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'KeyExists'), String(r.reason));
          }
          assert.deepEqual(await store.get(key), won[0]?.value);
        })
      );
    });

    describe('list', () => {
      it(
        'list - returns the keys under the prefix in byte order at the newest revision',
        withStore(async (store) => {
          const prefix = '/registry/configmaps/ns/';
          // UTF-16 order (JavaScript's <) differs from UTF-8 byte order for the last two.
          const names = ['b', 'a', 'a/x', 'B', 'z', 'é', '日本', 'ｚ', '🚀'];
          for (const n of names) await store.create(prefix + n, JSON.stringify({ name: n }));
          const result = await store.list(prefix);
          const want = names.map((n) => prefix + n).sort(byteOrder);
          assert.deepEqual(
            result.items.map((kv) => kv.key),
            want
          );
          assert.deepEqual(result.items.at(-1)?.value, JSON.stringify({ name: '🚀' }));
          assert.equal(result.revision, await store.currentRevision());
          assert.equal(result.more, false);
          assert.equal(result.remaining, 0);
        })
      );

      it(
        'list - an empty store lists nothing at its current revision',
        withStore(async (store) => {
          assert.deepEqual(await store.list('/registry/'), {
            items: [],
            revision: await store.currentRevision(),
            more: false,
            remaining: 0,
          });
        })
      );

      it(
        'list - the prefix /registry/pods/ excludes /registry/podsx/ and /registry/pods',
        withStore(async (store) => {
          for (const key of [
            '/registry/podsx/default/a',
            '/registry/pods',
            '/registry/pods/default/a',
            '/registry/pod',
          ]) {
            await store.create(key, '{}');
          }
          const pods = await store.list('/registry/pods/');
          assert.deepEqual(
            pods.items.map((kv) => kv.key),
            ['/registry/pods/default/a']
          );
          const podsx = await store.list('/registry/podsx/');
          assert.deepEqual(
            podsx.items.map((kv) => kv.key),
            ['/registry/podsx/default/a']
          );
          assert.deepEqual(await store.list('/registry/nothing/'), {
            items: [],
            revision: await store.currentRevision(),
            more: false,
            remaining: 0,
          });
        })
      );

      it(
        'list - limit and startKey page through one revision while writes go on',
        withStore(async (store) => {
          const prefix = '/registry/pages/';
          const keys = [0, 1, 2, 3, 4, 5, 6].map((i) => `${prefix}k${i}`);
          for (const key of keys) await store.create(key, 'v1');
          await store.create('/registry/pagesx/outside', 'v1');

          const p1 = await store.list(prefix, { limit: 3 });
          assert.deepEqual(p1.items.map(keyOf), keys.slice(0, 3));
          assert.equal(p1.more, true);
          assert.equal(p1.remaining, 4);

          const k3 = await store.get(`${prefix}k3`);
          await store.update(`${prefix}k3`, 'v2', k3!.modRevision);
          await store.delete(`${prefix}k4`);
          await store.create(`${prefix}k7`, 'v1');

          // A continue token is the last key plus "\0", the smallest key after it (as the Kubernetes API does).
          const p2 = await store.list(prefix, { limit: 3, revision: p1.revision, startKey: `${keys[2]}\0` });
          assert.deepEqual(p2.items.map(keyOf), keys.slice(3, 6));
          assert.equal(p2.items[0]?.value, 'v1');
          assert.equal(p2.revision, p1.revision);
          assert.equal(p2.more, true);
          assert.equal(p2.remaining, 1);

          const p3 = await store.list(prefix, { limit: 3, revision: p1.revision, startKey: `${keys[5]}\0` });
          assert.deepEqual(p3.items.map(keyOf), keys.slice(6));
          assert.equal(p3.more, false);
          assert.equal(p3.remaining, 0);

          const exact = await store.list(prefix, { limit: 7 });
          assert.equal(exact.items.length, 7);
          assert.equal(exact.more, false);
          assert.deepEqual(
            (await store.list(prefix)).items.map(keyOf),
            [0, 1, 2, 3, 5, 6, 7].map((i) => `${prefix}k${i}`)
          );
        })
      );

      it(
        'list - at a past revision returns the keys as they were then',
        withStore(async (store) => {
          const prefix = '/registry/secrets/ns/';
          const a = await store.create(`${prefix}a`, 'a1');
          const b = await store.create(`${prefix}b`, 'b1');
          const past = b.modRevision;
          await store.update(a.key, 'a2', a.modRevision);
          await store.delete(b.key);
          const c = await store.create(`${prefix}c`, 'c1');

          const then = await store.list(prefix, { revision: past });
          assert.equal(then.revision, past);
          assert.deepEqual(then.items, [a, b]);
          const before = await store.list(prefix, { revision: a.modRevision });
          assert.deepEqual(before.items, [a]);
          const now = await store.list(prefix);
          assert.deepEqual(now.items, [kvAt(a.key, 'a2', a.modRevision, past + 1), c]);
        })
      );

      it(
        'list - a revision newer than the newest fails',
        withStore(async (store) => {
          const kv = await store.create('/registry/pods/default/a', '1');
          await assert.rejects(store.list('/registry/pods/', { revision: kv.modRevision + 10 }));
        })
      );
    });

    describe('watch', () => {
      it(
        'watch - replays history after the revision, then delivers live events',
        withStore(async (store) => {
          const prefix = '/registry/pods/';
          const r0 = await store.currentRevision();
          const a = await store.create(`${prefix}ns/a`, 'a1');
          await store.create(`${prefix}ns/b`, 'b1');
          await store.update(a.key, 'a2', a.modRevision);
          const events = new Events(store.watch(prefix, { afterRevision: r0 }));
          try {
            await store.create(`${prefix}ns/c`, 'c1');
            await store.delete(`${prefix}ns/b`);
            assert.deepEqual((await events.take(5)).map(brief), [
              ['put', `${prefix}ns/a`, r0 + 1, 'a1'],
              ['put', `${prefix}ns/b`, r0 + 2, 'b1'],
              ['put', `${prefix}ns/a`, r0 + 3, 'a2'],
              ['put', `${prefix}ns/c`, r0 + 4, 'c1'],
              ['delete', `${prefix}ns/b`, r0 + 5, 'b1'],
            ]);
            const later = await events.take(1, () => store.create(`${prefix}ns/d`, 'd1'));
            assert.deepEqual(later.map(brief), [['put', `${prefix}ns/d`, r0 + 6, 'd1']]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'watch - opened during a burst of concurrent writes misses and repeats nothing',
        withStore(async (store) => {
          const prefix = '/registry/burst/';
          const writers = 4;
          const perWriter = 75;
          const total = writers * perWriter;
          const r0 = await store.currentRevision();
          let written = 0;
          let halfway!: () => void;
          const reachedHalfway = new Promise<void>((resolve) => (halfway = resolve));
          const burst = Promise.all(
            Array.from({ length: writers }, async (_, w) => {
              for (let i = 0; i < perWriter; i++) {
                await store.create(`${prefix}w${w}-${String(i).padStart(3, '0')}`, JSON.stringify({ w, i }));
                if (++written === total / 2) halfway();
                if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
              }
            })
          );
          const fromStart = new Events(store.watch(prefix, { afterRevision: r0 }));
          await reachedHalfway;
          const midRevision = await store.currentRevision();
          const fromStartMid = new Events(store.watch(prefix, { afterRevision: r0 }));
          const fromMid = new Events(store.watch(prefix, { afterRevision: midRevision }));
          try {
            await burst;
            const want = Array.from({ length: total }, (_, i) => r0 + 1 + i);
            for (const events of [fromStart, fromStartMid]) {
              const got = await events.take(total);
              assert.deepEqual(got.map(revisionOf), want);
              assert.equal(new Set(got.map(keyOfEvent)).size, total);
            }
            const got = await fromMid.take(r0 + total - midRevision);
            assert.deepEqual(got.map(revisionOf), want.slice(midRevision - r0));
          } finally {
            for (const events of [fromStart, fromStartMid, fromMid]) events.watch.close();
          }
        })
      );

      it(
        'watch - from a revision not written yet starts after it',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const events = new Events(store.watch('/registry/pods/', { afterRevision: r0 + 2 }));
          try {
            for (const name of ['a', 'b', 'c']) await store.create(`/registry/pods/ns/${name}`, name);
            assert.deepEqual((await events.take(1)).map(brief), [['put', '/registry/pods/ns/c', r0 + 3, 'c']]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'watch - delivers only keys under its prefix',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const events = new Events(store.watch('/registry/pods/', { afterRevision: r0 }));
          try {
            await store.create('/registry/podsx/default/a', '1');
            await store.create('/registry/pods', '1');
            await store.create('/registry/pod/a', '1');
            await store.create('/registry/pods/default/a', '2');
            assert.deepEqual((await events.take(1)).map(brief), [['put', '/registry/pods/default/a', r0 + 4, '2']]);
            // Replay filters too.
            const replayed = new Events(store.watch('/registry/podsx/', { afterRevision: r0 }));
            try {
              assert.deepEqual((await replayed.take(1)).map(brief), [
                ['put', '/registry/podsx/default/a', r0 + 1, '1'],
              ]);
              const live = await replayed.take(1, () => store.create('/registry/podsx/default/b', '3'));
              assert.deepEqual(live.map(brief), [['put', '/registry/podsx/default/b', r0 + 5, '3']]);
            } finally {
              replayed.watch.close();
            }
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'watch - delete events carry the last value, the delete revision and prevKv',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const kv = await store.create('/registry/pods/ns/a', 'a1');
          const updated = await store.update(kv.key, 'a2', kv.modRevision);
          const check = (event: WatchEvent | undefined) => {
            assert.deepEqual(event, {
              type: 'delete',
              kv: kvAt(kv.key, 'a2', kv.createRevision, r0 + 3),
              prevKv: updated,
            });
          };
          const live = new Events(store.watch('/registry/pods/', { afterRevision: updated.modRevision }));
          try {
            await store.delete(kv.key);
            check((await live.take(1))[0]);
          } finally {
            live.watch.close();
          }
          const replayed = new Events(store.watch('/registry/pods/', { afterRevision: updated.modRevision }));
          try {
            check((await replayed.take(1))[0]);
          } finally {
            replayed.watch.close();
          }
        })
      );

      it(
        'watch - prevKv on updates when asked, never on creates, in replay and live',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const kv = await store.create('/registry/pods/ns/a', 'a1');
          const updated = await store.update(kv.key, 'a2', kv.modRevision);
          const events = new Events(store.watch('/registry/pods/', { afterRevision: r0, prevKv: true }));
          try {
            const live = await store.update(kv.key, 'a3', updated.modRevision);
            assert.deepEqual(await events.take(3), [
              { type: 'put', kv },
              { type: 'put', kv: updated, prevKv: kv },
              { type: 'put', kv: live, prevKv: updated },
            ]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'watch - close and break end the iteration quietly',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          await store.create('/registry/pods/ns/a', '1');
          const events = new Events(store.watch('/registry/pods/', { afterRevision: r0 }));
          await events.take(1);
          const pending = events.next();
          events.watch.close();
          assert.deepEqual(await pending, { done: true, value: undefined });
          assert.equal((await events.next()).done, true);

          const watch = store.watch('/registry/pods/', { afterRevision: r0 });
          for await (const event of watch) {
            assert.equal(event.kv.modRevision, r0 + 1);
            break;
          }
          await store.create('/registry/pods/ns/b', '2');
          assert.equal((await new Events(watch).next()).done, true);
        })
      );
    });

    describe('compaction', () => {
      // r0+1 create a, +2 update a, +3 create b, +4 delete b, +5 create c, +6 update a, +7 update c; compacted at
      // r0+4. a's row at +2 is superseded only after the compacted revision, so it must survive for reads at +5.
      const compacted = async (store: Store) => {
        const r0 = await store.currentRevision();
        const p = '/registry/configmaps/ns/';
        const a = await store.create(`${p}a`, 'a1');
        const a2 = await store.update(a.key, 'a2', a.modRevision);
        const b = await store.create(`${p}b`, 'b1');
        await store.delete(b.key);
        const c = await store.create(`${p}c`, 'c1');
        const a3 = await store.update(a.key, 'a3', a2.modRevision);
        const c2 = await store.update(c.key, 'c2', c.modRevision);
        await store.compact(r0 + 4);
        return { r0, p, a2, a3, b, c, c2 };
      };

      it(
        'compact - reads and watches at compacted revisions fail with Compacted',
        withStore(async (store) => {
          const { r0, p } = await compacted(store);
          assert.equal(await store.compactedRevision(), r0 + 4);
          for (const revision of [r0 + 1, r0 + 3, r0 + 4]) {
            await assert.rejects(store.list(p, { revision }), storageError('Compacted'));
          }
          for (const afterRevision of [r0, r0 + 2, r0 + 3]) {
            await expectWatchFails(store, p, { afterRevision }, 'Compacted');
          }
        })
      );

      it(
        'compact - live keys keep their values, deleted keys are gone, later revisions stay readable',
        withStore(async (store) => {
          const { r0, p, a2, a3, b, c, c2 } = await compacted(store);
          assert.deepEqual(await store.get(a3.key), a3);
          assert.equal(await store.get(b.key), null);
          assert.deepEqual((await store.list(p)).items, [a3, c2]);
          assert.deepEqual((await store.list(p, { revision: r0 + 5 })).items, [a2, c]);
          assert.deepEqual((await store.list(p, { revision: r0 + 6 })).items, [a3, c]);
        })
      );

      it(
        'compact - a watch from the compacted revision replays every later write with prevKv',
        withStore(async (store) => {
          const { r0, p, a2, a3, c, c2 } = await compacted(store);
          const events = new Events(store.watch(p, { afterRevision: r0 + 4, prevKv: true }));
          try {
            const a4 = await store.update(a3.key, 'a4', a3.modRevision);
            assert.deepEqual(await events.take(4), [
              { type: 'put', kv: c },
              // a's previous value was written before the compacted revision and is still its newest there.
              { type: 'put', kv: a3, prevKv: a2 },
              { type: 'put', kv: c2, prevKv: c },
              { type: 'put', kv: a4, prevKv: a3 },
            ]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'compact - to the newest revision keeps the newest state readable and watchable',
        withStore(async (store) => {
          const { p, a3, c2 } = await compacted(store);
          const newest = await store.currentRevision();
          await store.compact(newest);
          assert.deepEqual(await store.list(p), { items: [a3, c2], revision: newest, more: false, remaining: 0 });
          const events = new Events(store.watch(p, { afterRevision: newest }));
          try {
            const d = await store.create(`${p}d`, 'd1');
            assert.deepEqual(await events.take(1), [{ type: 'put', kv: d }]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'compact - to an already compacted revision changes nothing; to a future revision fails',
        withStore(async (store) => {
          const { r0, p, a3, c2 } = await compacted(store);
          await store.compact(r0 + 2);
          await store.compact(r0 + 4);
          assert.equal(await store.compactedRevision(), r0 + 4);
          assert.deepEqual((await store.list(p)).items, [a3, c2]);
          await assert.rejects(store.compact((await store.currentRevision()) + 5));
          assert.equal(await store.compactedRevision(), r0 + 4);
        })
      );
    });

    describe('values', () => {
      it(
        'values - 1 MiB values round-trip through create, update, get, list and watch',
        withStore(async (store) => {
          const big = (fill: string) => `{"data":"${fill.repeat(1024 * 1024 - 11)}"}`;
          const r0 = await store.currentRevision();
          const kv = await store.create('/registry/secrets/ns/big', big('a'));
          assert.equal(kv.value.length, 1024 * 1024);
          assert.deepEqual(await store.get(kv.key), kv);
          const updated = await store.update(kv.key, big('b'), kv.modRevision);
          assert.deepEqual((await store.list('/registry/secrets/')).items, [updated]);
          const events = new Events(store.watch('/registry/secrets/', { afterRevision: r0, prevKv: true }));
          try {
            assert.deepEqual(await events.take(2), [
              { type: 'put', kv },
              { type: 'put', kv: updated, prevKv: kv },
            ]);
          } finally {
            events.watch.close();
          }
        })
      );

      it(
        'values - unicode keys and values round-trip',
        withStore(async (store) => {
          const r0 = await store.currentRevision();
          const key = '/registry/configmaps/名前空間/ünïcödé-🚀';
          const value = JSON.stringify({
            data: { greeting: 'こんにちは世界', emoji: '👩‍🚀🛰️', rtl: 'שלום', ctl: '\t\n' },
          });
          const kv = await store.create(key, value);
          assert.deepEqual(await store.get(key), kvAt(key, value, r0 + 1, r0 + 1));
          assert.deepEqual((await store.list('/registry/configmaps/名前空間/')).items, [kv]);
          assert.deepEqual((await store.list('/registry/configmaps/名前空間/ü')).items, [kv]);
          const events = new Events(store.watch('/registry/configmaps/名前空間/', { afterRevision: r0 }));
          try {
            assert.deepEqual(await events.take(1), [{ type: 'put', kv }]);
          } finally {
            events.watch.close();
          }
        })
      );
    });

    it(
      'close - ends open watches with Closed, then every call fails with Closed',
      withStore(async (store) => {
        const r0 = await store.currentRevision();
        const waiting = new Events(store.watch('/registry/pods/', { afterRevision: r0 }));
        const idle = new Events(store.watch('/registry/services/', { afterRevision: r0 }));
        const pending = waiting.next();
        await store.close();
        await assert.rejects(pending, storageError('Closed'));
        await assert.rejects(idle.next(), storageError('Closed'));
        await assert.rejects(store.get('/registry/pods/ns/a'), storageError('Closed'));
        await assert.rejects(store.create('/registry/pods/ns/a', '1'), storageError('Closed'));
        await assert.rejects(store.currentRevision(), storageError('Closed'));
        await expectWatchFails(store, '/registry/pods/', { afterRevision: r0 }, 'Closed');
        await store.close();
      })
    );
  });
}

/** Reads a watch one event at a time, failing instead of hanging when an event does not come. */
class Events {
  readonly #it: AsyncIterator<WatchEvent>;

  constructor(readonly watch: Watch) {
    this.#it = watch[Symbol.asyncIterator]();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    return withTimeout(this.#it.next(), eventTimeoutMs, 'a watch event');
  }

  /** The next `n` events; `trigger` runs after the first pull is pending, to prove live delivery to a waiter. */
  async take(n: number, trigger?: () => Promise<unknown>): Promise<WatchEvent[]> {
    const events: WatchEvent[] = [];
    while (events.length < n) {
      const pending = this.next();
      if (trigger && events.length === 0) await trigger();
      const result = await pending;
      if (result.done) assert.fail(`watch ended after ${events.length} of ${n} events`);
      events.push(result.value);
    }
    return events;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A watch that cannot start may throw from watch() or end its iteration with the error; both are allowed. */
async function expectWatchFails(store: Store, prefix: string, opts: WatchOptions, code: StorageErrorCode) {
  let watch: Watch;
  try {
    watch = store.watch(prefix, opts);
  } catch (err) {
    assert.ok(isStorageError(err, code), String(err));
    return;
  }
  try {
    await assert.rejects(new Events(watch).next(), storageError(code));
  } finally {
    watch.close();
  }
}

function storageError(code: StorageErrorCode, key?: string) {
  return (err: unknown): true => {
    assert.ok(isStorageError(err, code), `want StorageError ${code}, got ${String(err)}`);
    if (key !== undefined) assert.equal(err.key, key);
    return true;
  };
}

function kvAt(key: string, value: string, createRevision: number, modRevision: number): KeyValue {
  return { key, value, createRevision, modRevision };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const keyOf = (kv: KeyValue) => kv.key;
const keyOfEvent = (event: WatchEvent) => event.kv.key;
const revisionOf = (event: WatchEvent) => event.kv.modRevision;
const brief = (event: WatchEvent) => [event.type, event.kv.key, event.kv.modRevision, event.kv.value];
