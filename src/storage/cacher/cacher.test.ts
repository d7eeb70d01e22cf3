import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isStorageError, type KeyValue, type Store } from '../interface.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { Cacher } from './cacher.js';
import type { CacheEvent } from './watch-cache.js';
import { WatchMux } from './watch-mux.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))));

interface Obj {
  name: string;
  v: string;
  rv: number;
}
const decode = (kv: KeyValue): Obj => ({ name: kv.key.split('/').pop()!, v: kv.value, rv: kv.modRevision });
const asEvent = (ev: CacheEvent<Obj>) => `${ev.type} ${ev.object.name}=${ev.object.v}`;

/** A SQLite store that counts the storage watches opened on it. */
async function setup(opts: { windowSize?: number; watcherBufferSize?: number } = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hubspoke-cacher-'));
  dirs.push(dir);
  const sqlite = SqliteStore.open(path.join(dir, 'state.db'), { synchronous: 'normal' });
  let watches = 0;
  const store: Store = {
    currentRevision: () => sqlite.currentRevision(),
    compactedRevision: () => sqlite.compactedRevision(),
    get: (k) => sqlite.get(k),
    list: (p, o) => sqlite.list(p, o),
    create: (k, v) => sqlite.create(k, v),
    update: (k, v, r) => sqlite.update(k, v, r),
    delete: (k, r) => sqlite.delete(k, r),
    watch: (p, o) => (watches++, sqlite.watch(p, o)),
    compact: (r) => sqlite.compact(r),
    close: () => sqlite.close(),
  };
  const mux = new WatchMux(store);
  const cacher = new Cacher<Obj>({ store, mux, prefix: '/registry/pods/', decode, ...opts });
  return {
    store: sqlite,
    cacher,
    watches: () => watches,
    async close() {
      cacher.stop();
      mux.close();
      await sqlite.close();
    },
  };
}

async function take<U>(it: AsyncIterator<U>, n: number): Promise<U[]> {
  const out: U[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('cacher', () => {
  it('cacher - lists from memory in key order, by prefix, with a predicate and limit', async (t) => {
    const s = await setup();
    t.after(() => s.close());
    await s.store.create('/registry/pods/b/x', '1');
    await s.store.create('/registry/pods/a/y', '2');
    await s.store.create('/registry/pods/a/z', '3');
    await s.store.create('/registry/services/a/s', 'svc');
    const all = await s.cacher.list('/registry/pods/', { consistent: true });
    assert.deepEqual(
      all!.items.map((i) => i.key),
      ['/registry/pods/a/y', '/registry/pods/a/z', '/registry/pods/b/x']
    );
    assert.equal(all!.revision, 4);
    const nsA = await s.cacher.list('/registry/pods/a/', { limit: 1 });
    assert.deepEqual(
      nsA!.items.map((i) => i.object.name),
      ['y']
    );
    assert.equal(nsA!.more, true);
    assert.equal(nsA!.remaining, 1);
    const next = await s.cacher.list('/registry/pods/a/', { startKey: '/registry/pods/a/y\u0000' });
    assert.deepEqual(
      next!.items.map((i) => i.object.name),
      ['z']
    );
    const filtered = await s.cacher.list('/registry/pods/', { predicate: (o) => o.v !== '2' });
    assert.deepEqual(
      filtered!.items.map((i) => i.object.name),
      ['z', 'x']
    );
  });

  it('cacher - a consistent read waits for a write made just before it', async (t) => {
    const s = await setup();
    t.after(() => s.close());
    await s.cacher.ready();
    for (let i = 0; i < 50; i++) {
      await s.store.create(`/registry/pods/ns/p${i}`, String(i));
      const res = await s.cacher.list('/registry/pods/', { consistent: true });
      assert.equal(res!.items.length, i + 1);
    }
  });

  it('cacher - N watchers share one storage watch; replay from the window; too old is Compacted', async (t) => {
    const s = await setup({ windowSize: 5 });
    t.after(() => s.close());
    const first = await s.store.create('/registry/pods/ns/a', 'a1');
    await s.cacher.ready();
    const a2 = await s.store.update(first.key, 'a2', first.modRevision);
    await s.store.delete(first.key);
    await s.cacher.list('/registry/pods/', { consistent: true });
    const watchers = await Promise.all(
      Array.from({ length: 20 }, () =>
        s.cacher.watch('/registry/pods/', { afterRevision: first.modRevision, transform: asEvent })
      )
    );
    await s.store.create('/registry/pods/ns/b', 'b1');
    for (const w of watchers) {
      assert.deepEqual(await take(w, 3), [{ event: 'put a=a2' }, { event: 'delete a=a2' }, { event: 'put b=b1' }]);
      w.close();
    }
    assert.equal(s.watches(), 1);
    assert.equal(s.cacher.watcherCount, 0);
    // Push the first events out of the window (it keeps between 5 and 10).
    for (let i = 0; i < 12; i++) await s.store.create(`/registry/pods/ns/c${i}`, 'c');
    await s.cacher.list('/registry/pods/', { consistent: true });
    await assert.rejects(
      s.cacher.watch('/registry/pods/', { afterRevision: a2.modRevision, transform: asEvent }),
      (err) => isStorageError(err, 'Compacted') && /too old resource version/.test(err.message)
    );
  });

  it('cacher - a watcher that stops reading is cut off while another goes on', async (t) => {
    const s = await setup({ watcherBufferSize: 10 });
    t.after(() => s.close());
    await s.cacher.ready();
    let cutOff: Error | undefined;
    const slow = await s.cacher.watch('/registry/pods/', {
      afterRevision: s.cacher.revision,
      transform: asEvent,
      onCutOff: (err) => (cutOff = err),
    });
    const fast = await s.cacher.watch('/registry/pods/', { afterRevision: s.cacher.revision, transform: asEvent });
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const item of fast) {
        got.push(item);
        if (got.length === 30) break;
      }
    })();
    for (let i = 0; i < 30; i++) {
      await s.store.create(`/registry/pods/ns/p${i}`, String(i));
      await new Promise((r) => setImmediate(r));
    }
    await reading;
    assert.equal(got.length, 30);
    assert.ok(cutOff && isStorageError(cutOff, 'WatchOverflow'));
    await assert.rejects(slow.next(), (err) => isStorageError(err, 'WatchOverflow'));
    assert.equal(s.cacher.watcherCount, 0);
  });

  it('cacher - bookmarks carry the revision reached, also through writes to other resources', async (t) => {
    const s = await setup();
    t.after(() => s.close());
    await s.cacher.ready();
    const w = await s.cacher.watch('/registry/pods/', { afterRevision: s.cacher.revision, transform: asEvent });
    const svc = await s.store.create('/registry/services/ns/s', 'x');
    await s.cacher.list('/registry/pods/', { consistent: true });
    s.cacher.bookmark(w as never);
    assert.deepEqual(await take(w, 1), [{ bookmark: svc.modRevision }]);
    w.close();
  });
});
