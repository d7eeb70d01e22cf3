// One watcher of the SQLite store. Events older than the watch come from the log, read a page at a time as the
// consumer pulls (so replaying a long history costs one page of memory); events committed after the watch was
// opened are pushed by the store into a bounded queue. The store opens the watch and records `replayUpTo` (its
// revision then) in the same synchronous step, so every revision lands in exactly one of the two: no gap, no
// duplicate.
import { StorageError } from '../interface.js';
import type { Watch, WatchEvent } from '../interface.js';
import { WatchQueue } from '../watch-queue.js';

/** Reads events with revision in (after, upTo] under the watched prefix, oldest first, at most `limit`. */
export type ReplayPage = (after: number, upTo: number, limit: number) => WatchEvent[];

export interface SqliteWatchConfig {
  prefix: string;
  afterRevision: number;
  /** The store's revision when the watch opened: replay covers (afterRevision, replayUpTo], live the rest. */
  replayUpTo: number;
  prevKv: boolean;
  queueLimit: number;
  replayPageSize: number;
  readPage: ReplayPage;
  /** Called once when the watch ends for any reason, so the store stops fanning out to it. */
  onEnd: (watch: SqliteWatch) => void;
}

export class SqliteWatch implements Watch, AsyncIterator<WatchEvent> {
  readonly prefix: string;
  #config: SqliteWatchConfig;
  readonly #queue: WatchQueue;
  /** Newest revision read from the log; replay is finished when it reaches replayUpTo. */
  #cursor: number;
  #page: WatchEvent[] = [];

  constructor(config: SqliteWatchConfig) {
    this.prefix = config.prefix;
    this.#config = config;
    this.#cursor = Math.min(config.afterRevision, config.replayUpTo);
    this.#queue = new WatchQueue({
      prefix: config.prefix,
      limit: config.queueLimit,
      // Replayed events come before live ones, which wait in the queue meanwhile.
      pull: () => this.#replayed(),
      onEnd: () => {
        this.#page = [];
        config.onEnd(this);
      },
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    return this.#queue.next();
  }

  /** Ends the iteration early (a `break` out of `for await`). */
  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  close(): void {
    this.#queue.close();
  }

  /** Called by the store after each commit; `event` carries prevKv, dropped here unless the watcher asked. */
  push(event: WatchEvent): void {
    // A watch may start from a revision not written yet (as etcd allows); nothing up to it is delivered.
    if (event.kv.modRevision <= this.#config.afterRevision) return;
    this.#queue.push(event.type === 'put' && !this.#config.prevKv ? { type: event.type, kv: event.kv } : event);
  }

  /** The store is about to drop history at or before `revision`; a replay that still needs it cannot go on. */
  compacting(revision: number): void {
    if (this.#cursor < this.#config.replayUpTo && this.#cursor < revision) {
      this.fail(
        new StorageError('Compacted', this.prefix, `revision ${this.#cursor + 1} was compacted during the watch replay`)
      );
    }
  }

  /** Ends the watch with `err`: the pending pull rejects with it, or the next one does. Queued events are dropped. */
  fail(err: StorageError): void {
    this.#queue.fail(err);
  }

  /** The next replayed event, reading the log a page at a time; undefined once replay is done. */
  #replayed(): WatchEvent | undefined {
    if (this.#page.length === 0 && this.#cursor < this.#config.replayUpTo) {
      const { replayUpTo, replayPageSize, readPage } = this.#config;
      this.#page = readPage(this.#cursor, replayUpTo, replayPageSize);
      const last = this.#page.at(-1);
      // A short page means the log has nothing more under this prefix up to replayUpTo.
      this.#cursor = last && this.#page.length === replayPageSize ? last.kv.modRevision : replayUpTo;
    }
    return this.#page.shift();
  }
}
