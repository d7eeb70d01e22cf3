// The storage seam, shaped like etcd v3 (DESIGN.md "Storage"): a revisioned key-value store. Every write gets the
// next global revision; an object's resourceVersion is the modRevision of its key. SQLite (embedded default) and
// etcd (issue 3) implement it; src/storage/conformance.ts is the suite both must pass.

/** One stored key at one revision. `value` is the serialized object (JSON text). */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since it last did not exist). */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
}

export interface ListOptions {
  /** Read as of this revision (must not be compacted); 0 or undefined = the newest. */
  revision?: number;
  /** At most this many items; 0 or undefined = all. */
  limit?: number;
  /** Start at this key (inclusive); keys are returned in byte order. Used for continue tokens. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision this list reflects (the newest revision when none was asked for). */
  revision: number;
  /** True when `limit` cut the result short. */
  more: boolean;
  /** Number of keys after the last one returned (for ListMeta.remainingItemCount), when cut short. */
  remaining: number;
}

export type WatchEvent =
  /** Created or updated: `kv` is the new value; `prevKv` the old one (absent on create). */
  | { type: 'put'; kv: KeyValue; prevKv?: KeyValue }
  /** Deleted: `kv.modRevision` is the delete's revision; `kv.value` the last value held. */
  | { type: 'delete'; kv: KeyValue; prevKv?: KeyValue };

/**
 * A watch: an async iterator of events in revision order. It ends with an error when the store closes it
 * (e.g. the watcher fell too far behind); `close()` ends it quietly.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  close(): void;
}

export interface WatchOptions {
  /** Deliver events with revision > afterRevision. Throws CompactedError when that history is gone. */
  afterRevision: number;
  /** Also deliver `prevKv` for puts (etcd's WithPrevKV). */
  prevKv?: boolean;
}

export interface Store {
  /** The newest revision of the store (0 when empty). */
  currentRevision(): Promise<number>;
  /** The oldest revision still readable is compactedRevision + 1. */
  compactedRevision(): Promise<number>;
  get(key: string): Promise<KeyValue | null>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Creates `key`; throws KeyExistsError if it exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Compare-and-swap: writes only if the key's modRevision is `expectedModRevision`; else ConflictError / KeyNotFoundError. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Deletes `key` (only at `expectedModRevision` when given). Returns the deleted value with the delete's revision. */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Watches every key under `prefix`. */
  watch(prefix: string, opts: WatchOptions): Watch;
  /** Drops history at or before `revision` (keeps each key's newest value). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

const kStorageError = Symbol.for('hubspoke.StorageError');

export type StorageErrorCode =
  | 'KeyExists'
  | 'KeyNotFound'
  | 'Conflict'
  | 'Compacted'
  | 'WatchOverflow'
  | 'Closed'
  /** The backend cannot be reached or has no quorum (the API answers 503); retrying later may succeed. */
  | 'Unavailable'
  /** The backend did not answer within its deadline (the API answers 504); a write's outcome is unknown. */
  | 'Timeout';

export class StorageError extends Error {
  readonly [kStorageError] = true;
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message: string,
    /** For Conflict: the key's current value, so callers can report or retry without another read. */
    readonly current?: KeyValue
  ) {
    super(message);
  }
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && kStorageError in value;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
