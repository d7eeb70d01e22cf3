// The state of one resource in memory (upstream's watchCache): the current objects by key, and a bounded window
// of the most recent events, so a watch can start from any revision the window still covers.

export interface CachedObject<T> {
  key: string;
  object: T;
  modRevision: number;
}

export interface CacheEvent<T> {
  type: 'put' | 'delete';
  key: string;
  /** The new value; for a delete, the last value held (decoded with the delete's revision). */
  object: T;
  /** The value before this event, when the key existed. */
  prevObject?: T;
  revision: number;
}

export interface CacheListResult<T> {
  items: CachedObject<T>[];
  /** The revision the list reflects. */
  revision: number;
  /** True when `limit` cut the result short. */
  more: boolean;
  /** Keys under the prefix after the last one returned (only meaningful without a predicate). */
  remaining: number;
}

export class WatchCache<T> {
  readonly #items = new Map<string, CachedObject<T>>();
  /** Keys in byte order, rebuilt on demand after a create or delete (updates keep the order). */
  #sorted: string[] | null = [];
  #window: CacheEvent<T>[] = [];
  /** Every event with revision > #windowStart is in #window. */
  #windowStart = 0;
  #revision = 0;

  constructor(private readonly windowSize: number) {}

  get revision(): number {
    return this.#revision;
  }

  /** The oldest revision a watch may start after. */
  get windowStart(): number {
    return this.#windowStart;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Replaces everything with a list taken at `revision`; the window restarts there. */
  replace(items: Iterable<CachedObject<T>>, revision: number): void {
    this.#items.clear();
    for (const item of items) this.#items.set(item.key, item);
    this.#sorted = null;
    this.#window = [];
    this.#windowStart = revision;
    this.#revision = revision;
  }

  /** Applies one storage event; returns it with the previous value filled in, or null when already applied. */
  apply(type: 'put' | 'delete', key: string, object: T, revision: number): CacheEvent<T> | null {
    // Events up to the list's revision are in the list already.
    if (revision <= this.#revision) return null;
    const prev = this.#items.get(key);
    if (type === 'put') {
      this.#items.set(key, { key, object, modRevision: revision });
      if (!prev) this.#sorted = null;
    } else {
      if (!prev) return null;
      this.#items.delete(key);
      this.#sorted = null;
    }
    const ev: CacheEvent<T> = { type, key, object, prevObject: prev?.object, revision };
    this.#window.push(ev);
    // Trim in batches (one splice per windowSize events, not a shift per event): the window holds between
    // windowSize and twice that many events.
    if (this.#window.length >= this.windowSize * 2) {
      const dropped = this.#window.splice(0, this.#window.length - this.windowSize);
      this.#windowStart = dropped.at(-1)!.revision;
    }
    this.#revision = revision;
    return ev;
  }

  get(key: string): CachedObject<T> | undefined {
    return this.#items.get(key);
  }

  /** Events with revision > `after`, oldest first; null when the window no longer reaches back that far. */
  eventsAfter(after: number): CacheEvent<T>[] | null {
    if (after < this.#windowStart) return null;
    let lo = 0;
    let hi = this.#window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#window[mid]!.revision <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.#window.slice(lo);
  }

  /** Keys under `prefix` from `startKey` (inclusive), in key order, that pass `predicate`, at most `limit`. */
  list(
    prefix: string,
    opts: { startKey?: string; limit?: number; predicate?: (obj: T) => boolean }
  ): CacheListResult<T> {
    const keys = this.#sortedKeys();
    const from = lowerBound(keys, opts.startKey && opts.startKey > prefix ? opts.startKey : prefix);
    const end = lowerBound(keys, prefixEnd(prefix));
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: CachedObject<T>[] = [];
    let i = from;
    for (; i < end && items.length < limit; i++) {
      const item = this.#items.get(keys[i]!)!;
      if (!opts.predicate || opts.predicate(item.object)) items.push(item);
    }
    // `more` only when a further key would have been looked at; with a predicate it may match nothing (as etcd's
    // paging, the next page can be empty).
    return { items, revision: this.#revision, more: i < end, remaining: end - i };
  }

  #sortedKeys(): string[] {
    this.#sorted ??= [...this.#items.keys()].sort(compareKeys);
    return this.#sorted;
  }
}

/** Byte order of UTF-8 keys, as etcd and SQLite compare them (code-unit order differs above U+FFFF only). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest key greater than every key starting with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}
