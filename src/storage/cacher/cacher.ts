// The watch cache of one resource (upstream's Cacher, storage/cacher): fed by the shared storage watch, it serves
// LIST and WATCH from memory, so N watchers cost no storage watch of their own. Generic over the decoded object:
// the registry gives it the decode function and, per request, the predicate (selectors) and event transform.
import { silentLogger, type Logger } from '../../lib/log.js';
import { StorageError, type KeyValue, type Store, type WatchEvent } from '../interface.js';
import { CacheWatcher, type WatcherItem } from './cache-watcher.js';
import { WatchCache, type CacheEvent, type CacheListResult } from './watch-cache.js';
import type { MuxSubscriber, WatchMux } from './watch-mux.js';

export interface CacherOptions<T> {
  store: Store;
  mux: WatchMux;
  /** The resource's key prefix, e.g. `/registry/pods/`. */
  prefix: string;
  /** Called once per stored event; the result is shared by every reader and must not be mutated. */
  decode(kv: KeyValue): T;
  /** Events kept for watches that start in the past. @default 1000 */
  windowSize?: number;
  /** Events one watcher may have pending before it is cut off. @default 1000 */
  watcherBufferSize?: number;
  /** How long a read that needs a newer revision waits for the cache before it is left to storage. @default 3000 */
  freshnessTimeoutMs?: number;
  log?: Logger;
}

export interface CacherListOptions<T> {
  /** Wait until the cache has every write the store had when the request came (rv unset: a consistent read). */
  consistent?: boolean;
  /** Wait until the cache reaches this revision (resourceVersion=N, NotOlderThan). */
  minRevision?: number;
  startKey?: string;
  limit?: number;
  predicate?: (obj: T) => boolean;
}

export interface CacherWatchOptions<T, U> {
  /** Deliver events after this revision. */
  afterRevision: number;
  /** Turns a cache event into what this watcher delivers, or null to skip it (selectors). */
  transform: (ev: CacheEvent<T>) => U | null;
  onCutOff?: (err: StorageError) => void;
}

export class Cacher<T> {
  readonly #opts: Required<Omit<CacherOptions<T>, 'log'>> & { log: Logger };
  readonly #cache: WatchCache<T>;
  // Watcher sets per namespace prefix would save a startsWith per watcher and event; one set keeps it simple.
  readonly #watchers = new Map<CacheWatcher<unknown>, (ev: CacheEvent<T>) => unknown>();
  #ready: Promise<void> | undefined;
  /** Events that arrive while the initial list is read; applied after it. */
  #pending: WatchEvent[] | undefined;
  readonly #subscriber: MuxSubscriber;
  #stopped = false;

  constructor(opts: CacherOptions<T>) {
    // Field by field: a caller's `undefined` means the default.
    this.#opts = {
      ...opts,
      windowSize: opts.windowSize ?? 1000,
      watcherBufferSize: opts.watcherBufferSize ?? 1000,
      freshnessTimeoutMs: opts.freshnessTimeoutMs ?? 3000,
      log: opts.log ?? silentLogger,
    };
    this.#cache = new WatchCache<T>(this.#opts.windowSize);
    this.#subscriber = {
      prefix: opts.prefix,
      onEvent: (ev) => this.#onEvent(ev),
      onReset: () => void this.#reinitialize(),
    };
  }

  /** The newest revision the cache reflects. */
  get revision(): number {
    return Math.max(this.#cache.revision, this.#ready && !this.#pending ? this.#opts.mux.revision : 0);
  }

  /** Starts the cache on first use; resolves once it holds the resource. */
  ready(): Promise<void> {
    this.#ready ??= this.#initialize();
    return this.#ready;
  }

  /** Synchronous read of the current state (for in-process users such as the authorizer); needs ready(). */
  get(key: string): T | undefined {
    return this.#cache.get(key)?.object;
  }

  /** Synchronous list of the current state under `prefix`; needs ready(). */
  items(prefix = this.#opts.prefix): T[] {
    return this.#cache.list(prefix, {}).items.map((i) => i.object);
  }

  /**
   * Lists from memory. Returns null when the cache did not reach the revision the read needs within the
   * freshness timeout; the caller then reads storage (as upstream falls back to etcd).
   */
  async list(prefix: string, opts: CacherListOptions<T> = {}): Promise<CacheListResult<T> | null> {
    await this.ready();
    let need = opts.minRevision ?? 0;
    if (opts.consistent) need = Math.max(need, await this.#opts.store.currentRevision());
    if (need > this.revision && !(await this.#waitFor(need))) return null;
    const res = this.#cache.list(prefix, opts);
    return { ...res, revision: this.revision };
  }

  /**
   * Watches keys under `prefix` after `afterRevision`: replayed from the window, then live. Throws a Compacted
   * StorageError when the window no longer reaches back to `afterRevision` (410 Gone upstream).
   */
  async watch<U>(prefix: string, opts: CacherWatchOptions<T, U>): Promise<CacheWatcher<U>> {
    await this.ready();
    const events = this.#cache.eventsAfter(opts.afterRevision);
    if (!events)
      throw new StorageError(
        'Compacted',
        prefix,
        `too old resource version: ${opts.afterRevision} (${this.#cache.windowStart})`
      );
    const initial: WatcherItem<U>[] = [];
    for (const ev of events) {
      if (!ev.key.startsWith(prefix)) continue;
      const out = opts.transform(ev);
      if (out !== null) initial.push({ event: out });
    }
    const watcher = new CacheWatcher<U>(
      prefix,
      opts.afterRevision,
      this.#opts.watcherBufferSize,
      initial,
      (w) => this.#watchers.delete(w as CacheWatcher<unknown>),
      opts.onCutOff
    );
    this.#watchers.set(watcher as CacheWatcher<unknown>, opts.transform);
    return watcher;
  }

  /** A bookmark for `watcher` at the cache's revision, queued behind its pending events. */
  bookmark<U>(watcher: CacheWatcher<U>): void {
    watcher.bookmark(Math.max(this.revision, watcher.afterRevision));
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  stop(): void {
    this.#stopped = true;
    this.#opts.mux.unsubscribe(this.#subscriber);
    for (const w of [...this.#watchers.keys()]) w.close();
  }

  async #waitFor(revision: number): Promise<boolean> {
    return this.#opts.mux.waitForRevision(revision, this.#opts.freshnessTimeoutMs);
  }

  async #initialize(): Promise<void> {
    await this.#opts.mux.start();
    await this.#load();
  }

  /** Subscribe first (buffering), then list at the subscription's revision, then apply what arrived meanwhile. */
  async #load(): Promise<void> {
    for (;;) {
      this.#pending = [];
      const at = this.#opts.mux.subscribe(this.#subscriber);
      try {
        const res = await this.#opts.store.list(this.#opts.prefix, { revision: at || undefined });
        const items = res.items.map((kv) => ({
          key: kv.key,
          object: this.#opts.decode(kv),
          modRevision: kv.modRevision,
        }));
        this.#cache.replace(items, res.revision);
        const pending = this.#pending;
        this.#pending = undefined;
        for (const ev of pending) this.#onEvent(ev);
        return;
      } catch (err) {
        this.#opts.mux.unsubscribe(this.#subscriber);
        if (this.#stopped) throw err;
        this.#opts.log.warn({ err, prefix: this.#opts.prefix }, 'watch cache list failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** The shared watch lost history: drop every watcher (they resume or re-list) and load again. */
  async #reinitialize(): Promise<void> {
    if (this.#stopped) return;
    const err = new StorageError('Compacted', this.#opts.prefix, 'the watch cache was re-initialized');
    for (const w of [...this.#watchers.keys()]) w.terminate(err);
    this.#opts.mux.unsubscribe(this.#subscriber);
    const reload = this.#load();
    this.#ready = reload;
    await reload.catch(() => undefined);
  }

  #onEvent(ev: WatchEvent): void {
    if (this.#pending) {
      this.#pending.push(ev);
      return;
    }
    let object: T;
    try {
      object = this.#opts.decode(ev.kv);
    } catch (err) {
      this.#opts.log.error({ err, key: ev.kv.key }, 'watch cache could not decode a stored object; skipping it');
      return;
    }
    const applied = this.#cache.apply(ev.type, ev.kv.key, object, ev.kv.modRevision);
    if (!applied) return;
    for (const [w, transform] of this.#watchers) {
      if (!applied.key.startsWith(w.prefix) || applied.revision <= w.afterRevision) continue;
      const out = transform(applied);
      if (out !== null) w.push({ event: out });
    }
  }
}
