import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runStorageConformance } from '../conformance.js';
import { isStorageError } from '../interface.js';
import type { KeyValue, WatchEvent } from '../interface.js';
import { SqliteStore } from './sqlite-store.js';
import type { SqliteStoreOptions } from './sqlite-store.js';

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

async function tempDb(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hubspoke-sqlite-'));
  tempDirs.push(dir);
  return path.join(dir, 'state.db');
}

async function openTemp(opts?: SqliteStoreOptions): Promise<{ store: SqliteStore; file: string }> {
  const file = await tempDb();
  return { store: SqliteStore.open(file, opts), file };
}

runStorageConformance('sqlite', async () => {
  const { store, file } = await openTemp();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await fs.rm(path.dirname(file), { recursive: true, force: true });
    },
  };
});

describe('SqliteStore', () => {
  it('reopen - keeps keys, revisions and the compacted revision', async () => {
    const { store, file } = await openTemp();
    const a = await store.create('/registry/pods/ns/a', 'a1');
    const b = await store.create('/registry/pods/ns/b', 'b1');
    const a2 = await store.update(a.key, 'a2', a.modRevision);
    const deleted = await store.delete(b.key);
    await store.compact(a2.modRevision);
    await store.close();

    const reopened = SqliteStore.open(file);
    try {
      assert.equal(await reopened.currentRevision(), deleted.modRevision);
      assert.equal(await reopened.compactedRevision(), a2.modRevision);
      assert.deepEqual((await reopened.list('/registry/pods/')).items, [a2]);
      const c = await reopened.create('/registry/pods/ns/c', 'c1');
      assert.equal(c.modRevision, deleted.modRevision + 1);
    } finally {
      await reopened.close();
    }
  });

  it('reopen - the revision never goes back after the newest rows were compacted away', async () => {
    const { store, file } = await openTemp();
    const kv = await store.create('/registry/pods/ns/a', '1');
    const deleted = await store.delete(kv.key);
    await store.compact(deleted.modRevision);
    await store.close();
    const reopened = SqliteStore.open(file);
    try {
      assert.equal(await reopened.currentRevision(), deleted.modRevision);
      assert.equal((await reopened.create(kv.key, '2')).modRevision, deleted.modRevision + 1);
    } finally {
      await reopened.close();
    }
  });

  it('compact - removes superseded rows and deletes, keeping rows readable after the compacted revision', async () => {
    const { store, file } = await openTemp();
    const a = await store.create('/registry/pods/ns/a', 'a1'); // 1: superseded at 2
    const a2 = await store.update(a.key, 'a2', a.modRevision); // 2: a's newest at 4, superseded at 5 (kept)
    const b = await store.create('/registry/pods/ns/b', 'b1'); // 3: superseded by its delete
    await store.delete(b.key); // 4: a delete at the compacted revision
    await store.update(a.key, 'a3', a2.modRevision); // 5
    await store.compact(4);
    await store.close();
    const raw = new Database(file, { readonly: true });
    try {
      assert.deepEqual(raw.prepare('SELECT id FROM log ORDER BY id').pluck().all(), [2, 5]);
    } finally {
      raw.close();
    }
  });

  it('open - a second store on the same file is refused while the first is open', async () => {
    const { store, file } = await openTemp();
    try {
      assert.throws(() => SqliteStore.open(file, { lockTimeoutMs: 50 }), /in use by another process/);
    } finally {
      await store.close();
    }
    await SqliteStore.open(file).close();
  });

  it('open - the database file is readable by its owner only', async () => {
    const { store, file } = await openTemp();
    await store.close();
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  });

  it('watch - a watcher that falls behind the queue limit ends with WatchOverflow; others go on', async () => {
    const { store } = await openTemp({ watchQueueLimit: 10 });
    try {
      const slow = store.watch('/registry/pods/', { afterRevision: 0 })[Symbol.asyncIterator]();
      const other = store.watch('/registry/services/', { afterRevision: 0 })[Symbol.asyncIterator]();
      for (let i = 0; i < 11; i++) await store.create(`/registry/pods/ns/p${i}`, '{}');
      await assert.rejects(slow.next(), (err) => isStorageError(err, 'WatchOverflow'));
      assert.equal((await slow.next()).done, true);
      const svc = await store.create('/registry/services/ns/s', '{}');
      assert.deepEqual(await other.next(), { done: false, value: { type: 'put', kv: svc } });
    } finally {
      await store.close();
    }
  });

  it('watch - replaying history longer than the queue limit reads the log page by page', async () => {
    const { store } = await openTemp({ watchQueueLimit: 10, synchronous: 'normal' });
    try {
      for (let i = 0; i < 1000; i++) await store.create(`/registry/pods/ns/p${String(i).padStart(4, '0')}`, '{}');
      const revisions: number[] = [];
      for await (const event of store.watch('/registry/pods/', { afterRevision: 100 })) {
        revisions.push(event.kv.modRevision);
        if (revisions.length === 900) break;
      }
      assert.deepEqual(
        revisions,
        Array.from({ length: 900 }, (_, i) => 101 + i)
      );
    } finally {
      await store.close();
    }
  });

  it('watch - compaction past an unfinished replay ends the watch with Compacted', async () => {
    const { store } = await openTemp({ synchronous: 'normal' });
    try {
      for (let i = 0; i < 600; i++) await store.create(`/registry/pods/ns/p${i}`, '{}');
      const replaying = store.watch('/registry/pods/', { afterRevision: 0 })[Symbol.asyncIterator]();
      assert.equal((await replaying.next()).value?.kv.modRevision, 1);
      const ahead = store.watch('/registry/pods/', { afterRevision: 550 })[Symbol.asyncIterator]();
      await store.compact(500);
      await assert.rejects(replaying.next(), (err) => isStorageError(err, 'Compacted'));
      assert.equal((await ahead.next()).value?.kv.modRevision, 551);
    } finally {
      await store.close();
    }
  });

  it('group commit - concurrent writes become visible to reads only once the sync covering them is done', async () => {
    const { store } = await openTemp();
    try {
      const before = await store.currentRevision();
      const writes = Array.from({ length: 20 }, (_, i) => store.create(`/registry/pods/ns/g${i}`, `v${i}`));
      let acked = false;
      void writes[0]!.then(() => (acked = true));
      // Committed to the WAL, not yet synced: lists are served at the synced revision, a get waits for the sync.
      const read = store.get('/registry/pods/ns/g0').then((kv) => ({ kv, acked }));
      assert.equal(await store.currentRevision(), before);
      assert.deepEqual((await store.list('/registry/pods/ns/')).items, []);
      const kvs = await Promise.all(writes);
      assert.deepEqual(await read, { kv: kvs[0], acked: true });
      assert.equal(await store.currentRevision(), kvs.at(-1)!.modRevision);
      assert.equal((await store.list('/registry/pods/ns/')).items.length, 20);
    } finally {
      await store.close();
    }
  });

  it('group commit - a get or a refused write that meets an unsynced write waits for it, so a retry sees it', async () => {
    const { store } = await openTemp();
    try {
      const v1 = await store.create('/registry/leases/ns/l', 'v1');
      const update = store.update(v1.key, 'v2', v1.modRevision);
      // Same precondition as the update in flight: refused, and reported once that update is on disk.
      const racing = store.update(v1.key, 'v3', v1.modRevision).catch((err: unknown) => err);
      const read = store.get(v1.key);
      const v2 = await update;
      assert.deepEqual(await read, v2);
      assert.ok(isStorageError(await racing, 'Conflict'));
      assert.deepEqual(await store.get(v1.key), v2);
    } finally {
      await store.close();
    }
  });

  it('kill -9 - every acknowledged write survives, with its value and revision, in a consistent log', () =>
    killedWriterKeepsAcknowledgedWrites(1));

  it('kill -9 - with 50 concurrent writers sharing group commits, every acknowledged write survives', () =>
    killedWriterKeepsAcknowledgedWrites(50));
});

/** Runs the durability writer with `concurrency` loops, kills it with -9 after 500 acknowledged writes, and checks
 * that every acknowledged write is in a consistent log; at most `concurrency` writes committed unacknowledged. */
async function killedWriterKeepsAcknowledgedWrites(concurrency: number): Promise<void> {
  const file = await tempDb();
  const script = fileURLToPath(new URL('./testdata/durability-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, file, String(concurrency)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const acked: KeyValue[] = [];
  for await (const line of readline.createInterface({ input: child.stdout })) {
    acked.push(JSON.parse(line) as KeyValue);
    // Lines already in the pipe after the kill are acknowledged writes too; the loop reads them all.
    if (acked.length === 500) process.kill(child.pid!, 'SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL', `writer did not run to the kill: ${stderr}`);
  assert.ok(acked.length >= 500, `only ${acked.length} writes acknowledged: ${stderr}`);

  const raw = new Database(file);
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    raw.close();
  }
  const store = SqliteStore.open(file);
  try {
    for (const kv of acked) assert.deepEqual(await store.get(kv.key), kv);
    // Every write was a create of a new key, so the log holds revisions 1..current with none missing; at most
    // one write per loop may have committed without its acknowledgement reaching us.
    const current = await store.currentRevision();
    assert.ok(current >= acked.length && current <= acked.length + concurrency, `${current} vs ${acked.length} acked`);
    const { items } = await store.list('/registry/configmaps/durability/');
    assert.deepEqual(
      items.map((kv) => kv.modRevision),
      Array.from({ length: current }, (_, i) => i + 1)
    );
    const events: WatchEvent[] = [];
    for await (const event of store.watch('/registry/', { afterRevision: 0 })) {
      events.push(event);
      if (events.length === current) break;
    }
    assert.deepEqual(
      events.map((e) => e.kv),
      items
    );
  } finally {
    await store.close();
  }
}
