// The consumer side every backend's watch shares: events wait in a bounded queue until pulled; a pull with nothing
// to take waits for the next event; the backend ends the watch quietly (close) or with an error the consumer gets
// on its next pull (fail). A watcher that lets more than `limit` events pile up is ended with WatchOverflow, so one
// slow consumer cannot grow the server's memory without bound.
import { StorageError } from './interface.js';
import type { WatchEvent } from './interface.js';

export interface WatchQueueOptions {
  /** The watched prefix (for the overflow message). */
  prefix: string;
  /** Events that may wait before the watch is ended with WatchOverflow. */
  limit: number;
  /** Events the backend produces on demand, taken before queued ones (SQLite's replay from its log). */
  pull?: () => WatchEvent | undefined;
  /** Called once when the watch ends for any reason. */
  onEnd: () => void;
}

interface Waiter {
  resolve: (result: IteratorResult<WatchEvent>) => void;
  reject: (err: unknown) => void;
}

export class WatchQueue {
  readonly #opts: WatchQueueOptions;
  #events: WatchEvent[] = [];
  #waiters: Waiter[] = [];
  /** Set when the watch failed; handed to the consumer on its next pull. */
  #error: StorageError | undefined;
  #ended = false;

  constructor(opts: WatchQueueOptions) {
    this.#opts = opts;
  }

  get ended(): boolean {
    return this.#ended;
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
      event = this.#opts.pull?.() ?? this.#events.shift();
    } catch (err) {
      // The backend could not produce the next event: the watch cannot go on without a gap.
      this.#end();
      throw err;
    }
    if (event) return { done: false, value: event };
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Hands `event` to a waiting pull, or queues it. */
  push(event: WatchEvent): void {
    if (this.#ended) return;
    // A pull waits only when there was nothing to take, so a waiting pull takes this event directly.
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve({ done: false, value: event });
      return;
    }
    this.#events.push(event);
    if (this.#events.length > this.#opts.limit) {
      const { prefix, limit } = this.#opts;
      this.fail(
        new StorageError(
          'WatchOverflow',
          prefix,
          `watcher of ${JSON.stringify(prefix)} fell more than ${limit} events behind`
        )
      );
    }
  }

  /** Ends the watch quietly: a waiting pull and every later one see the end. */
  close(): void {
    if (this.#ended) return;
    this.#end();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  /** Ends the watch with `err`: the waiting pull rejects with it, or the next one does. Queued events are dropped. */
  fail(err: StorageError): void {
    if (this.#ended) return;
    this.#end();
    const [first, ...rest] = this.#waiters.splice(0);
    if (first) first.reject(err);
    else this.#error = err;
    for (const waiter of rest) waiter.resolve({ done: true, value: undefined });
  }

  #end(): void {
    this.#ended = true;
    this.#events = [];
    this.#opts.onEnd();
  }
}
