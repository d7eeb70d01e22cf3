// The embedded Store: an append-only log in one SQLite file (schema.ts), after k3s' kine. Writes are synchronous
// better-sqlite3 transactions on one connection, so they are serialized by the event loop; this process holds the
// file's lock (locking_mode=EXCLUSIVE), which is what lets the newest revision live in memory and watches be fanned
// out in-process once a commit is on disk.
//
// Group commit: SQLite's own fsync (synchronous=FULL) would block the event loop for every write. Instead each
// commit only appends to the -wal file (synchronous=NORMAL) and the WAL is fdatasync'ed off the event loop, once
// for every commit made since the last sync; a write is acknowledged, and its event delivered, only after the sync
// that covers it. So the guarantee is FULL's (an acknowledged write survives kill -9 and power loss) at one fsync
// per batch of concurrent writes. Nothing that is not on disk yet is ever returned: lists are served at the newest
// synced revision, a get of a key with an unsynced write waits for that write's sync, and so does a write refused
// because of one (so an optimistic-concurrency retry then reads the new value instead of failing again).
import fs from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { StorageError } from '../interface.js';
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from '../interface.js';
import { prefixEnd } from './key-range.js';
import { migrate } from './schema.js';
import { SqliteWatch } from './sqlite-watch.js';

export interface SqliteStoreOptions {
  /**
   * How far a commit has reached the disk when a write returns. Both survive `kill -9` of this process: in WAL mode
   * a commit appends to the -wal file before returning, and a killed process's writes are already in the OS.
   * 'full' also fsyncs the WAL on every commit, so acknowledged writes survive a power loss or OS crash, as etcd's
   * do; a control plane's state is worth that fsync. 'normal' skips it (faster; for tests and throwaway clusters).
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** Events a watcher may have waiting before it is ended with WatchOverflow. @default 10000 */
  watchQueueLimit?: number;
  /** How long opening waits for another process to release the database. @default 5000 */
  lockTimeoutMs?: number;
}

const defaultWatchQueueLimit = 10_000;
const defaultLockTimeoutMs = 5_000;
/** Log rows a replaying watcher reads at once. */
const replayPageSize = 256;
/** Revisions compacted per transaction; the event loop runs between batches, as kine compacts in batches. */
const compactBatch = 1_000;
const compactRevisionKey = 'compact_revision';
/**
 * Upper bound for a prefix with no end (the empty prefix): SQLite orders every TEXT value before every BLOB, so
 * `name < X''` holds for all keys while keeping one prepared statement for both cases.
 */
const noUpperBound = Buffer.alloc(0);

interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

interface ReplayRow extends LogRow {
  /** The value of the row this put replaced (null for creates, deletes, or when compaction removed it). */
  prev_value: string | null;
}

interface Written {
  kv: KeyValue;
  prevKv: KeyValue;
}

/** A revision committed to the WAL, waiting for the sync that makes it durable. */
interface SyncWaiter {
  revision: number;
  resolve(): void;
  reject(err: unknown): void;
}

interface RangeParams {
  lo: string;
  start: string;
  hi: string | Buffer;
  rev: number;
}

const columns = 'id, name, created, deleted, create_revision, prev_revision, value';
/** Each key's newest row at @rev within the range, which list keeps when it is not a delete. */
const newestAtRevision = `SELECT MAX(id) AS id FROM log
  WHERE name >= @lo AND name >= @start AND name < @hi AND id <= @rev GROUP BY name`;

function kvOf(row: Pick<LogRow, 'id' | 'name' | 'create_revision' | 'value'>): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

function eventOf(row: ReplayRow): WatchEvent {
  const kv = kvOf(row);
  if (row.deleted) return { type: 'delete', kv, prevKv: { ...kv, modRevision: row.prev_revision } };
  if (row.prev_value === null) return { type: 'put', kv };
  return { type: 'put', kv, prevKv: { ...kv, value: row.prev_value, modRevision: row.prev_revision } };
}

function prepare(db: Database.Database) {
  return {
    latest: db.prepare<[string], LogRow>(`SELECT ${columns} FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`),
    insert: db.prepare<[LogRow]>(
      `INSERT INTO log (${columns}) VALUES (@id, @name, @created, @deleted, @create_revision, @prev_revision, @value)`
    ),
    list: db.prepare<[RangeParams & { limit: number }], LogRow>(
      `SELECT ${columns} FROM log l JOIN (${newestAtRevision}) m USING (id) WHERE l.deleted = 0 ORDER BY l.name LIMIT @limit`
    ),
    count: db.prepare<[RangeParams], { n: number }>(
      `SELECT COUNT(*) AS n FROM log l JOIN (${newestAtRevision}) m USING (id) WHERE l.deleted = 0`
    ),
    replay: db.prepare<[{ after: number; upTo: number; lo: string; hi: string | Buffer; limit: number }], ReplayRow>(
      `SELECT l.id, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value, p.value AS prev_value
       FROM log l LEFT JOIN log p ON p.id = l.prev_revision AND l.created = 0 AND l.deleted = 0
       WHERE l.id > @after AND l.id <= @upTo AND l.name >= @lo AND l.name < @hi ORDER BY l.id LIMIT @limit`
    ),
    // Within (@from, @to]: the rows each write superseded (all older than @to) and the deletes themselves. Rows at
    // or before @from that are still present were each key's newest at the last compaction, and are superseded
    // only by a later row, which this batch or a later one visits.
    compact: db.prepare<[{ from: number; to: number }]>(
      `DELETE FROM log WHERE id IN (
         SELECT prev_revision FROM log WHERE id > @from AND id <= @to AND prev_revision != 0
         UNION SELECT id FROM log WHERE id > @from AND id <= @to AND deleted != 0)`
    ),
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare<[string, number]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'
    ),
    sequence: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'log'"),
  };
}

type Statements = ReturnType<typeof prepare>;

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmts: Statements;
  /** Each write: its checks and its row in one transaction. */
  readonly #tx: {
    create: (key: string, value: string) => KeyValue;
    update: (key: string, value: string, expected: number) => Written;
    delete: (key: string, expected: number | undefined) => Written;
  };
  readonly #watchQueueLimit: number;
  readonly #watchers = new Set<SqliteWatch>();
  /** The -wal file group commit syncs; undefined with synchronous 'normal' (nothing is synced per commit). */
  readonly #walPath: string | undefined;
  /** Newest revision committed to SQLite. */
  #revision: number;
  /** Newest revision on disk: what reads, watches and acknowledgements may reflect. */
  #synced: number;
  /** Events of revisions in (#synced, #revision], delivered once synced. */
  #unsynced: WatchEvent[] = [];
  #syncWaiters: SyncWaiter[] = [];
  #syncing = false;
  /** Set when a sync failed: the log may hold writes that are not durable, so the store stops serving. */
  #syncError: StorageError | undefined;
  #compacted: number;
  /** Compactions run one after another; each awaits the previous. */
  #compacting: Promise<void> = Promise.resolve();
  #closed = false;

  protected constructor(db: Database.Database, opts: SqliteStoreOptions, walPath: string | undefined) {
    this.#db = db;
    this.#walPath = walPath;
    this.#stmts = prepare(db);
    this.#tx = {
      create: db.transaction((key: string, value: string) => this.#createRow(key, value)),
      update: db.transaction((key: string, value: string, expected: number) => this.#updateRow(key, value, expected)),
      delete: db.transaction((key: string, expected: number | undefined) => this.#deleteRow(key, expected)),
    };
    this.#watchQueueLimit = opts.watchQueueLimit ?? defaultWatchQueueLimit;
    this.#revision = this.#stmts.sequence.get()?.seq ?? 0;
    this.#synced = this.#revision;
    this.#compacted = this.#stmts.getMeta.get(compactRevisionKey)?.value ?? 0;
  }

  /** Opens (creating when missing) the database file at `path`. Throws when another process has it open. */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    // Create the file owner-only before SQLite would (0644); SQLite gives the -wal file the same permissions.
    fs.closeSync(fs.openSync(path, 'a', 0o600));
    const db = new Database(path, { timeout: opts.lockTimeoutMs ?? defaultLockTimeoutMs });
    try {
      // EXCLUSIVE must come before WAL so that no shared-memory index is used and the lock is held from the first
      // transaction until close: a second server on the same file would fork the revision sequence.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      // NORMAL in both cases: with 'full' the store syncs the WAL itself (group commit, above). NORMAL still syncs
      // the WAL before each checkpoint and the database file after it.
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return new SqliteStore(db, opts, opts.synchronous === 'normal' ? undefined : `${path}-wal`);
    } catch (err) {
      db.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new Error(`database ${path} is in use by another process`, { cause: err });
      }
      throw err;
    }
  }

  async currentRevision(): Promise<number> {
    this.#assertOpen();
    return this.#synced;
  }

  async compactedRevision(): Promise<number> {
    this.#assertOpen();
    return this.#compacted;
  }

  async get(key: string): Promise<KeyValue | null> {
    this.#assertOpen();
    const row = this.#stmts.latest.get(key);
    if (row && row.id > this.#synced) await this.#durable(row.id);
    return row && !row.deleted ? kvOf(row) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#assertOpen();
    // The newest state is always readable, even when compaction reached the newest revision (or nothing exists).
    const revision = opts.revision ? opts.revision : this.#synced;
    if (opts.revision) this.#assertReadable(prefix, revision);
    const range: RangeParams = {
      lo: prefix,
      start: opts.startKey ?? '',
      hi: prefixEnd(prefix) ?? noUpperBound,
      rev: revision,
    };
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    // One extra row tells whether the limit cut the list short.
    const rows = this.#stmts.list.all({ ...range, limit: limit > 0 ? limit + 1 : -1 });
    if (limit === 0 || rows.length <= limit) return { items: rows.map(kvOf), revision, more: false, remaining: 0 };
    const total = this.#stmts.count.get(range)?.n ?? 0;
    return { items: rows.slice(0, limit).map(kvOf), revision, more: true, remaining: total - limit };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.#assertOpen();
    let kv: KeyValue;
    try {
      kv = this.#tx.create(key, value);
    } catch (err) {
      await this.#refused();
      throw err;
    }
    await this.#committed({ type: 'put', kv });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.#assertOpen();
    let written: Written;
    try {
      written = this.#tx.update(key, value, expectedModRevision);
    } catch (err) {
      await this.#refused();
      throw err;
    }
    await this.#committed({ type: 'put', ...written });
    return written.kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.#assertOpen();
    let written: Written;
    try {
      written = this.#tx.delete(key, expectedModRevision);
    } catch (err) {
      await this.#refused();
      throw err;
    }
    await this.#committed({ type: 'delete', ...written });
    return written.kv;
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    const watch = new SqliteWatch({
      prefix,
      afterRevision: opts.afterRevision,
      // Replay what is on disk; later revisions arrive live as their sync completes.
      replayUpTo: this.#synced,
      prevKv: opts.prevKv ?? false,
      queueLimit: this.#watchQueueLimit,
      replayPageSize,
      readPage: (after, upTo, limit) => this.#replay(prefix, after, upTo, limit),
      onEnd: (w) => this.#watchers.delete(w),
    });
    // Errors reach the consumer through the iterator, as they must for a store whose watch is opened remotely.
    if (this.#closed) watch.fail(closedError());
    else if (opts.afterRevision < this.#compacted)
      watch.fail(compactedError(prefix, opts.afterRevision, this.#compacted));
    else this.#watchers.add(watch);
    return watch;
  }

  async compact(revision: number): Promise<void> {
    this.#assertOpen();
    if (revision > this.#synced) {
      throw new RangeError(`cannot compact to revision ${revision}: the newest revision is ${this.#synced}`);
    }
    const run = this.#compacting.then(() => this.#compactTo(revision));
    this.#compacting = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watch of this.#watchers) watch.fail(closedError());
    // Writes waiting for their sync are still acknowledged (or rejected) before the file closes.
    await this.#durable(this.#revision).catch(() => undefined);
    // A compaction in progress sees #closed before its next batch; batches never span an await.
    this.#db.close();
  }

  #createRow(key: string, value: string): KeyValue {
    const latest = this.#stmts.latest.get(key);
    if (latest && !latest.deleted) throw new StorageError('KeyExists', key, `key ${key} already exists`);
    const id = this.#revision + 1;
    // A create after a delete points at the delete row, so compaction knows the delete is superseded.
    return this.#append({
      id,
      name: key,
      created: 1,
      deleted: 0,
      create_revision: id,
      prev_revision: latest?.id ?? 0,
      value,
    });
  }

  #updateRow(key: string, value: string, expected: number): Written {
    const latest = this.#current(key, expected);
    const kv = this.#append({ ...latest, id: this.#revision + 1, created: 0, prev_revision: latest.id, value });
    return { kv, prevKv: kvOf(latest) };
  }

  #deleteRow(key: string, expected: number | undefined): Written {
    const latest = this.#current(key, expected);
    const kv = this.#append({ ...latest, id: this.#revision + 1, created: 0, deleted: 1, prev_revision: latest.id });
    return { kv, prevKv: kvOf(latest) };
  }

  /** The live row of `key`, checked against the caller's precondition. */
  #current(key: string, expected: number | undefined): LogRow {
    const latest = this.#stmts.latest.get(key);
    if (!latest || latest.deleted) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
    if (expected !== undefined && latest.id !== expected) {
      throw new StorageError(
        'Conflict',
        key,
        `key ${key} is at revision ${latest.id}, not the expected ${expected}`,
        kvOf(latest)
      );
    }
    return latest;
  }

  /** Inserts the write's row. The revision advances in memory only once the insert succeeded. */
  #append(row: LogRow): KeyValue {
    this.#stmts.insert.run(row);
    this.#revision = row.id;
    return kvOf(row);
  }

  /**
   * A write was refused (exists, not found, conflict), maybe because of a write not synced yet: the refusal is
   * reported once that is on disk, as the caller may read the key next. (Its own transaction, run synchronously
   * before any await, keeps the log's and the events' order.)
   */
  async #refused(): Promise<void> {
    if (this.#revision > this.#synced) await this.#durable(this.#revision).catch(() => undefined);
  }

  /** Resolves once the write that produced `event` is on disk, after its event went to the watchers. */
  #committed(event: WatchEvent): Promise<void> {
    this.#unsynced.push(event);
    return this.#durable(event.kv.modRevision);
  }

  /** Resolves once `revision` is on disk. */
  #durable(revision: number): Promise<void> {
    if (this.#syncError !== undefined) return Promise.reject(this.#syncError);
    if (revision <= this.#synced) return Promise.resolve();
    if (!this.#walPath) {
      this.#advance(this.#revision);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#syncWaiters.push({ revision, resolve, reject });
      if (!this.#syncing) void this.#syncLoop(this.#walPath!);
    });
  }

  /** Syncs the WAL until everything committed is on disk; the commits made during one sync share the next. */
  async #syncLoop(walPath: string): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#synced < this.#revision) {
        let target = this.#revision;
        // Read the target once the file is open: the writers woken by the last sync have committed by then.
        await syncFile(walPath, () => (target = this.#revision));
        this.#advance(target);
      }
    } catch (err) {
      this.#syncError = new StorageError('Unavailable', '', `could not sync the database to disk: ${String(err)}`);
      for (const w of this.#syncWaiters.splice(0)) w.reject(this.#syncError);
      for (const watch of this.#watchers) watch.fail(this.#syncError);
    } finally {
      this.#syncing = false;
    }
  }

  /** Everything up to `revision` is on disk: deliver its events, then acknowledge its writes and reads. */
  #advance(revision: number): void {
    this.#synced = revision;
    let n = 0;
    for (; n < this.#unsynced.length && this.#unsynced[n]!.kv.modRevision <= revision; n++) {
      const event = this.#unsynced[n]!;
      for (const watch of this.#watchers) {
        if (event.kv.key.startsWith(watch.prefix)) watch.push(event);
      }
    }
    this.#unsynced.splice(0, n);
    const done = this.#syncWaiters.filter((w) => w.revision <= revision);
    this.#syncWaiters = this.#syncWaiters.filter((w) => w.revision > revision);
    for (const w of done) w.resolve();
  }

  #replay(prefix: string, after: number, upTo: number, limit: number): WatchEvent[] {
    const hi = prefixEnd(prefix) ?? noUpperBound;
    return this.#stmts.replay.all({ after, upTo, lo: prefix, hi, limit }).map(eventOf);
  }

  async #compactTo(target: number): Promise<void> {
    while (this.#compacted < target) {
      this.#assertOpen();
      const from = this.#compacted;
      const to = Math.min(target, from + compactBatch);
      for (const watch of this.#watchers) watch.compacting(to);
      this.#db.transaction(() => {
        this.#stmts.compact.run({ from, to });
        this.#stmts.setMeta.run(compactRevisionKey, to);
      })();
      this.#compacted = to;
      if (to < target) await yieldToEventLoop();
    }
    // As FULL did per transaction: compaction is on disk when it returns.
    if (this.#walPath) await syncFile(this.#walPath);
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
    if (this.#syncError !== undefined) throw this.#syncError;
  }

  #assertReadable(key: string, revision: number): void {
    if (revision <= this.#compacted) throw compactedError(key, revision, this.#compacted);
    if (revision > this.#synced) {
      throw new RangeError(`revision ${revision} is newer than the newest revision ${this.#synced}`);
    }
  }
}

/**
 * fdatasync of `path`, on libuv's thread pool; `beforeSync` runs just before the call, so whatever was written
 * until then is covered. Opened per sync: the handle names the live file, whatever SQLite did.
 */
async function syncFile(path: string, beforeSync?: () => void): Promise<void> {
  const file = await openFile(path, 'r');
  try {
    beforeSync?.();
    await file.datasync();
  } finally {
    await file.close();
  }
}

function closedError(): StorageError {
  return new StorageError('Closed', '', 'storage is closed');
}

function compactedError(key: string, revision: number, compacted: number): StorageError {
  return new StorageError('Compacted', key, `revision ${revision} has been compacted (compacted up to ${compacted})`);
}
