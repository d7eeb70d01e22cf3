// One storage watch over the whole keyspace, fanned out by key prefix to the watch caches (upstream runs one etcd
// watch per resource and asks etcd for progress notifications to learn how far it has read; the Store seam has no
// progress requests, so one watch sees every revision instead, and every cache knows it is current up to the
// newest revision read). That revision is what a consistent read waits for.
import { silentLogger, type Logger } from '../../lib/log.js';
import { isStorageError, type Store, type Watch, type WatchEvent } from '../interface.js';

export interface MuxSubscriber {
  /** Keys this subscriber gets events for. */
  prefix: string;
  /** Called synchronously, in revision order, for every event under `prefix`. */
  onEvent(ev: WatchEvent): void;
  /** The watch could not resume without a gap (history compacted): state must be rebuilt from a list. */
  onReset(): void;
}

interface RevisionWaiter {
  revision: number;
  resolve(ok: boolean): void;
}

export class WatchMux {
  readonly #subscribers = new Set<MuxSubscriber>();
  #waiters: RevisionWaiter[] = [];
  #revision = 0;
  #watch: Watch | undefined;
  #closed = false;
  #started: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger = silentLogger,
    /** Pause before re-opening a failed storage watch. */
    private readonly retryMs = 500
  ) {}

  /** The newest revision read from storage: every subscriber has seen every event up to it. */
  get revision(): number {
    return this.#revision;
  }

  /** Opens the storage watch at the store's current revision (idempotent). */
  start(): Promise<void> {
    this.#started ??= (async () => {
      this.#revision = await this.store.currentRevision();
      void this.#run();
    })();
    return this.#started;
  }

  /** Events after `revision` (the value returned) go to `sub`, synchronously as they are read. */
  subscribe(sub: MuxSubscriber): number {
    this.#subscribers.add(sub);
    return this.#revision;
  }

  unsubscribe(sub: MuxSubscriber): void {
    this.#subscribers.delete(sub);
  }

  /** Resolves true once `revision` has been read, false after `timeoutMs` or on close. */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.#revision >= revision) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: RevisionWaiter = {
        revision,
        resolve: (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.#closed = true;
    this.#watch?.close();
    for (const w of this.#waiters.splice(0)) w.resolve(false);
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        this.#watch = this.store.watch('', { afterRevision: this.#revision });
        for await (const ev of this.#watch) this.#dispatch(ev);
      } catch (err) {
        if (this.#closed) return;
        if (isStorageError(err, 'Compacted')) {
          // Events between our revision and the compaction are gone: every cache re-lists from now.
          this.log.warn({ revision: this.#revision }, 'storage watch fell behind compaction; re-listing all caches');
          this.#revision = await this.store.currentRevision().catch(() => this.#revision);
          for (const sub of [...this.#subscribers]) sub.onReset();
          continue;
        }
        if (isStorageError(err, 'Closed')) return;
        this.log.warn({ err, revision: this.#revision }, 'storage watch failed; resuming');
      }
      if (!this.#closed) await new Promise((r) => setTimeout(r, this.retryMs));
    }
  }

  #dispatch(ev: WatchEvent): void {
    const rev = ev.kv.modRevision;
    if (rev < this.#revision) return; // never go back (a resumed watch starts after #revision)
    this.#revision = rev;
    for (const sub of this.#subscribers) if (ev.kv.key.startsWith(sub.prefix)) sub.onEvent(ev);
    if (this.#waiters.length) {
      const done = this.#waiters.filter((w) => w.revision <= rev);
      this.#waiters = this.#waiters.filter((w) => w.revision > rev);
      for (const w of done) w.resolve(true);
    }
  }
}
