// One watcher of a watch cache (upstream's cacheWatcher): events the cache dispatches wait in a bounded buffer
// until the consumer pulls them. A consumer that stops pulling is cut off when the buffer is full, so one slow
// client costs at most `bufferSize` references and never holds back the cache or the other watchers.
import { StorageError } from '../interface.js';

export type WatcherItem<U> = { event: U } | { bookmark: number };

interface Waiter<U> {
  resolve(result: IteratorResult<WatcherItem<U>>): void;
  reject(err: unknown): void;
}

export class CacheWatcher<U> implements AsyncIterableIterator<WatcherItem<U>> {
  #queue: WatcherItem<U>[];
  #waiter: Waiter<U> | undefined;
  #error: StorageError | undefined;
  #ended = false;

  constructor(
    readonly prefix: string,
    /** Deliver only events with a revision above this. */
    readonly afterRevision: number,
    private readonly bufferSize: number,
    /** Events replayed from the window; they do not count against the buffer. */
    initial: WatcherItem<U>[],
    private readonly onEnd: (w: CacheWatcher<U>) => void,
    /** Told when the watcher is cut off, so a consumer blocked elsewhere (a full socket) can give up too. */
    private readonly onCutOff?: (err: StorageError) => void
  ) {
    this.#queue = initial;
    this.bufferSize = bufferSize + initial.length;
  }

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatcherItem<U>> {
    return this;
  }

  next(): Promise<IteratorResult<WatcherItem<U>>> {
    const item = this.#queue.shift();
    if (item) return Promise.resolve({ done: false, value: item });
    if (this.#error) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<WatcherItem<U>>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Queues an item; cuts the watcher off when its buffer is full. */
  push(item: WatcherItem<U>): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: item });
      return;
    }
    if (this.#queue.length >= this.bufferSize) {
      const err = new StorageError(
        'WatchOverflow',
        this.prefix,
        `watcher of ${this.prefix} fell more than ${this.bufferSize} events behind and was closed`
      );
      this.#fail(err);
      this.onCutOff?.(err);
      return;
    }
    this.#queue.push(item);
  }

  /** A bookmark only when nothing is pending: a consumer with queued events learns the revision from them. */
  bookmark(revision: number): void {
    if (this.#queue.length === 0) this.push({ bookmark: revision });
  }

  /** Ends quietly: queued items are still delivered, then the iteration is done. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onEnd(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ done: true, value: undefined });
  }

  /** Ends with `err` after the queued items are dropped (they are what the consumer could not keep up with). */
  #fail(err: StorageError): void {
    this.#queue = [];
    this.#error = err;
    this.close();
  }

  /** Ends at once with `err` (the cache was rebuilt and cannot continue this watch without a gap). */
  terminate(err: StorageError): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.#fail(err);
    if (waiter) {
      this.#error = undefined;
      waiter.reject(err);
    }
  }
}
