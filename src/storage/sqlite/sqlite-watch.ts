// One watcher of the SQLite store. Events older than the watch come from the log, read a page at a time as the
// consumer pulls (so replaying a long history costs one page of memory); events committed after the watch was
// opened are pushed by the store into a bounded queue. The store opens the watch and records `replayUpTo` (its
// revision then) in the same synchronous step, so every revision lands in exactly one of the two: no gap, no
// duplicate.
import { StorageError } from '../interface.js';
import type { Watch, WatchEvent } from '../interface.js';

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

interface Waiter {
  resolve: (result: IteratorResult<WatchEvent>) => void;
  reject: (err: unknown) => void;
}

export class SqliteWatch implements Watch, AsyncIterator<WatchEvent> {
  readonly prefix: string;
  #config: SqliteWatchConfig;
  /** Newest revision read from the log; replay is finished when it reaches replayUpTo. */
  #cursor: number;
  #page: WatchEvent[] = [];
  #live: WatchEvent[] = [];
  #waiters: Waiter[] = [];
  /** Set when the store ended the watch; handed to the consumer on its next pull. */
  #error: StorageError | undefined;
  #ended = false;

  constructor(config: SqliteWatchConfig) {
    this.prefix = config.prefix;
    this.#config = config;
    this.#cursor = Math.min(config.afterRevision, config.replayUpTo);
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this;
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    if (this.#error) {
      const err = this.#error;
      this.#error = undefined;
      throw err;
    }
    if (this.#ended) return { done: true, value: undefined };
    let event: WatchEvent | undefined;
    try {
      event = this.#take();
    } catch (err) {
      // Reading the log failed: the watch cannot continue without a gap.
      this.#end();
      throw err;
    }
    if (event) return { done: false, value: event };
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Ends the iteration early (a `break` out of `for await`). */
  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  close(): void {
    if (this.#ended) return;
    this.#end();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  /** Called by the store after each commit; `event` carries prevKv, dropped here unless the watcher asked. */
  push(event: WatchEvent): void {
    // A watch may start from a revision not written yet (as etcd allows); nothing up to it is delivered.
    if (this.#ended || event.kv.modRevision <= this.#config.afterRevision) return;
    const delivered = event.type === 'put' && !this.#config.prevKv ? { type: event.type, kv: event.kv } : event;
    // A pull waits only when replay is done and the queue is empty, so a waiting pull takes this event directly.
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve({ done: false, value: delivered });
      return;
    }
    this.#live.push(delivered);
    if (this.#live.length > this.#config.queueLimit) {
      this.fail(
        new StorageError(
          'WatchOverflow',
          this.prefix,
          `watcher of ${JSON.stringify(this.prefix)} fell more than ${this.#config.queueLimit} events behind`
        )
      );
    }
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
    if (this.#ended) return;
    this.#end();
    const [first, ...rest] = this.#waiters.splice(0);
    if (first) first.reject(err);
    else this.#error = err;
    for (const waiter of rest) waiter.resolve({ done: true, value: undefined });
  }

  #take(): WatchEvent | undefined {
    if (this.#page.length === 0 && this.#cursor < this.#config.replayUpTo) {
      const { replayUpTo, replayPageSize, readPage } = this.#config;
      this.#page = readPage(this.#cursor, replayUpTo, replayPageSize);
      const last = this.#page.at(-1);
      // A short page means the log has nothing more under this prefix up to replayUpTo.
      this.#cursor = last && this.#page.length === replayPageSize ? last.kv.modRevision : replayUpTo;
    }
    return this.#page.shift() ?? this.#live.shift();
  }

  #end(): void {
    this.#ended = true;
    this.#page = [];
    this.#live = [];
    this.#config.onEnd(this);
  }
}
