// Periodic compaction, as kine runs for SQLite and the Kubernetes API server runs against etcd
// (--etcd-compaction-interval): keep a window of recent revisions readable for watches and paged lists, drop
// everything older. It uses only the Store interface, so it serves any backend.
import { silentLogger } from '../lib/log.js';
import type { Logger } from '../lib/log.js';
import { isStorageError } from './interface.js';
import type { Store } from './interface.js';

export interface CompactionOptions {
  /** Time between compactions. @default 300000 (5 minutes, the API server's and kine's interval) */
  intervalMs?: number;
  /** Revisions behind the newest that stay readable. @default 1000 (kine's minimum retention) */
  keepRevisions?: number;
  /** Failed compactions are logged at warn (the compactor keeps going), finished ones at debug. */
  log?: Logger;
}

/**
 * Compacts `store` to (newest revision - keepRevisions) every interval. Returns a function that stops it; it also
 * stops by itself once the store is closed. The timer does not keep the process alive.
 */
export function startCompaction(store: Store, opts: CompactionOptions = {}): () => void {
  const keep = opts.keepRevisions ?? 1000;
  const log = opts.log ?? silentLogger;
  let running = false;

  const compact = async () => {
    // A compaction slower than the interval must not queue another behind it.
    if (running) return;
    running = true;
    try {
      const target = (await store.currentRevision()) - keep;
      if (target > (await store.compactedRevision())) {
        await store.compact(target);
        log.debug({ revision: target }, 'compacted storage');
      }
    } catch (err) {
      if (isStorageError(err, 'Closed')) stop();
      else log.warn({ err }, 'storage compaction failed');
    } finally {
      running = false;
    }
  };

  const timer = setInterval(() => void compact(), opts.intervalMs ?? 300_000);
  timer.unref();
  const stop = () => clearInterval(timer);
  return stop;
}
