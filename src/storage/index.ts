// What the API server needs from storage: the Store seam, its errors, and the embedded default backend.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Store } from './interface.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { SqliteStoreOptions } from './sqlite/sqlite-store.js';

export * from './interface.js';
export { startCompaction } from './sqlite/compactor.js';
export type { CompactionOptions } from './sqlite/compactor.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.js';

/** The SQLite file under a server's data directory (k3s keeps its kine database at server/db/state.db). */
export function storePath(dataDir: string): string {
  return path.join(dataDir, 'db', 'state.db');
}

/**
 * Opens the embedded store at `<dataDir>/db/state.db`, creating the directories owner-only (0700): the database
 * holds every Secret in the cluster.
 */
export async function openStore(dataDir: string, opts?: SqliteStoreOptions): Promise<Store> {
  const file = storePath(dataDir);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a directory that already exists, nor escape the umask.
  await fs.chmod(path.dirname(file), 0o700);
  return SqliteStore.open(file, opts);
}
