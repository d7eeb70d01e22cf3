// Child process of the kill -9 durability tests (sqlite-store.test.ts): creates keys forever from `concurrency`
// loops (default 1) and prints one JSON line per write only after the write returned, so every printed line is an
// acknowledged write. With several loops the writes share group commits.
import { SqliteStore } from '../sqlite-store.js';

const [dbPath, concurrencyArg] = process.argv.slice(2);
if (!dbPath) throw new Error('usage: durability-writer.ts <db path> [concurrency]');

const store = SqliteStore.open(dbPath);
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrencyArg ?? 1) }, async () => {
    for (;;) {
      const i = next++;
      const key = `/registry/configmaps/durability/cm-${String(i).padStart(6, '0')}`;
      const value = JSON.stringify({ kind: 'ConfigMap', i, data: { pad: 'x'.repeat(i % 2000) } });
      const kv = await store.create(key, value);
      process.stdout.write(`${JSON.stringify(kv)}\n`);
      // Let the event loop run now and then so stdout drains even if it is ever asynchronous.
      if (i % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })
);
