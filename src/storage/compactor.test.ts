import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { Store } from './interface.js';
import { startCompaction } from './compactor.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hubspoke-compactor-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

let stores = 0;
function openStore(): SqliteStore {
  return SqliteStore.open(path.join(dir, `${stores++}.db`), { synchronous: 'normal' });
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A logger that keeps its warnings, so a test can assert there were none. */
function warnings(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }), lines };
}

async function writes(store: Store, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await store.create(`/registry/events/ns/e${await store.currentRevision()}`, '{}');
}

describe('startCompaction', () => {
  it('startCompaction - compacts to the newest revision minus keepRevisions on every tick', async () => {
    const store = openStore();
    const { log, lines } = warnings();
    const stop = startCompaction(store, { intervalMs: 5, keepRevisions: 3, log });
    try {
      await writes(store, 10);
      await waitFor('compaction to 7', async () => (await store.compactedRevision()) === 7);
      await writes(store, 5);
      await waitFor('compaction to 12', async () => (await store.compactedRevision()) === 12);
      stop();
      await writes(store, 5);
      await sleep(30);
      assert.equal(await store.compactedRevision(), 12);
      assert.deepEqual(lines, []);
    } finally {
      stop();
      await store.close();
    }
  });

  it('startCompaction - leaves a store with fewer revisions than keepRevisions alone', async () => {
    const store = openStore();
    const stop = startCompaction(store, { intervalMs: 5, keepRevisions: 100 });
    try {
      await writes(store, 10);
      await sleep(30);
      assert.equal(await store.compactedRevision(), 0);
    } finally {
      stop();
      await store.close();
    }
  });

  it('startCompaction - logs a failed compaction and tries again on the next tick', async () => {
    const store = openStore();
    const { log, lines } = warnings();
    let attempts = 0;
    store.compact = async () => {
      attempts++;
      throw new Error('disk I/O error');
    };
    const stop = startCompaction(store, { intervalMs: 5, keepRevisions: 1, log });
    try {
      await writes(store, 3);
      await waitFor('two attempts', async () => attempts >= 2);
      const record = JSON.parse(lines[0] ?? '{}');
      assert.equal(record.msg, 'storage compaction failed');
      assert.equal(record.err.message, 'disk I/O error');
    } finally {
      stop();
      await store.close();
    }
  });

  it('startCompaction - stops quietly once the store is closed', async () => {
    const store = openStore();
    const { log, lines } = warnings();
    startCompaction(store, { intervalMs: 5, keepRevisions: 1, log });
    await writes(store, 3);
    await store.close();
    await sleep(30);
    assert.deepEqual(lines, []);
  });
});
