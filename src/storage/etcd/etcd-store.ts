// The distributed Store: etcd v3 through the etcd3 client, laid out as upstream's API server lays it out. A Store
// key `/registry/<resource>/<namespace>/<name>` is the etcd key `<prefix>/<resource>/<namespace>/<name>`
// (--etcd-prefix, default /registry); the value is the object's JSON; resourceVersion is the key's mod revision.
// Writes are transactions that compare the key's mod revision (0 for a create), so optimistic concurrency holds
// across every API server on the cluster. Every call has a deadline, so an unreachable cluster fails fast.
import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { Range } from 'etcd3';
import type { Etcd3 } from 'etcd3';
import type { CallOptions } from '@grpc/grpc-js';
import type { IKeyValue, ITxnRequest, ITxnResponse } from 'etcd3';
import { StorageError } from '../interface.js';
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchOptions } from '../interface.js';
import { newEtcdClient } from './client.js';
import type { EtcdClientOptions } from './client.js';
import { fromEtcdError } from './errors.js';
import { EtcdWatch } from './etcd-watch.js';

export interface EtcdStoreOptions extends EtcdClientOptions {
  /** The etcd key prefix that replaces `/registry` in Store keys (--etcd-prefix). @default '/registry' */
  prefix?: string;
  /** The deadline of every call, and how long a broken watch tries to reopen. @default 5000 */
  requestTimeoutMs?: number;
  /** Events a watcher may have waiting before it is ended with WatchOverflow. @default 10000 */
  watchQueueLimit?: number;
}

/** The root every Store key starts with; the etcd prefix takes its place. */
const storeRoot = '/registry';
const defaultRequestTimeoutMs = 5_000;
const defaultWatchQueueLimit = 10_000;

/**
 * Watches ask etcd to end the stream when the member loses its leader (clientv3's WithRequireLeader), so a member
 * cut off from the quorum cannot keep a watcher waiting for events the rest of the cluster is writing.
 */
const requireLeader = grpcCredentials.createFromMetadataGenerator((_params, callback) => {
  const metadata = new Metadata();
  metadata.set('hasleader', 'true');
  callback(null, metadata);
});

export class EtcdStore implements Store {
  readonly #client: Etcd3;
  /**
   * Watch streams use a client of their own: etcd3 counts opening a stream as a success of the member and resets
   * every connection to a member when a stream to it breaks, which would keep the KV calls' circuits closed during
   * an outage and cut KV calls in flight.
   */
  readonly #watchClient: Etcd3;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #watchQueueLimit: number;
  readonly #watchers = new Set<EtcdWatch>();
  /**
   * The revision etcd was compacted to, as far as this process knows (0: never). etcd still serves that revision
   * itself; the Store contract treats it as gone, as the SQLite store does. Another server's compaction may have
   * moved it further; compactedRevision() finds out.
   */
  #compacted = 0;
  #closed = false;

  /** Watches not yet ended (a leak check; a watcher ended by WatchOverflow is gone from it at once). */
  get openWatches(): number {
    return this.#watchers.size;
  }

  protected constructor(client: Etcd3, watchClient: Etcd3, opts: EtcdStoreOptions) {
    this.#client = client;
    this.#watchClient = watchClient;
    this.#prefix = opts.prefix ?? storeRoot;
    this.#timeoutMs = opts.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.#watchQueueLimit = opts.watchQueueLimit ?? defaultWatchQueueLimit;
  }

  /** Connects lazily: opening succeeds while etcd is down, and the first call reports it. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    return new EtcdStore(await newEtcdClient(opts), await newEtcdClient(opts), opts);
  }

  async currentRevision(): Promise<number> {
    const res = await this.#call('', (options) =>
      this.#client.kv.range({ key: this.#toEtcd(storeRoot), count_only: true }, options)
    );
    return Number(res.header.revision);
  }

  /**
   * etcd does not report its compaction revision, so it is found by reading: the smallest revision still served.
   * Usually the one this process knows of (one read); after another server compacted, a binary search.
   */
  async compactedRevision(): Promise<number> {
    let lo = Math.max(this.#compacted, 1);
    if (await this.#readable(lo)) return this.#compacted;
    let hi = await this.currentRevision();
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.#readable(mid)) hi = mid;
      else lo = mid;
    }
    this.#compacted = Math.max(this.#compacted, hi);
    return this.#compacted;
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.#call(key, (options) => this.#client.kv.range({ key: this.#toEtcd(key) }, options));
    const kv = res.kvs[0];
    return kv ? this.#kvOf(kv) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const revision = opts.revision ?? 0;
    // etcd still serves its compaction revision itself; the Store contract says it is gone.
    if (revision > 0 && revision <= this.#compacted) {
      throw new StorageError('Compacted', prefix, `revision ${revision} has been compacted`);
    }
    const range = this.#prefixRange(prefix);
    const start = opts.startKey ? this.#toEtcd(opts.startKey) : undefined;
    const key = start && Buffer.compare(start, range.start) > 0 ? start : range.start;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const res = await this.#call(prefix, (options) =>
      this.#client.kv.range({ key, range_end: range.end, revision, limit }, options)
    );
    const items = res.kvs.map((kv) => this.#kvOf(kv));
    return {
      items,
      revision: revision || Number(res.header.revision),
      more: res.more,
      remaining: res.more ? Number(res.count) - items.length : 0,
    };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = this.#toEtcd(key);
    const res = await this.#txn(key, {
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new StorageError('KeyExists', key, `key ${key} already exists`);
    const revision = Number(res.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    // Mod revision 0 would match a missing key and turn the update into a create.
    const k = this.#toEtcd(key);
    if (!(expectedModRevision > 0)) {
      const res = await this.#call(key, (options) => this.#client.kv.range({ key: k }, options));
      this.#preconditionFailed(key, res.kvs[0], expectedModRevision);
    }
    const res = await this.#txn(key, {
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) this.#preconditionFailed(key, res.responses[0]?.response_range.kvs[0], expectedModRevision);
    const prev = res.responses[0]?.response_put.prev_kv;
    return { key, value, createRevision: Number(prev?.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const k = this.#toEtcd(key);
    const res = await this.#txn(key, {
      compare: [
        expectedModRevision === undefined
          ? { key: k, target: 'Mod', result: 'Greater', mod_revision: 0 }
          : { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
      ],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) this.#preconditionFailed(key, res.responses[0]?.response_range.kvs[0], expectedModRevision);
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new Error(`etcd deleted ${key} without returning its value`);
    return { ...this.#kvOf(prev), modRevision: Number(res.header.revision) };
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    const range = this.#prefixRange(prefix);
    const watch = new EtcdWatch({
      prefix,
      key: range.start,
      rangeEnd: range.end,
      afterRevision: opts.afterRevision,
      prevKv: opts.prevKv ?? false,
      queueLimit: this.#watchQueueLimit,
      reconnectWindowMs: this.#timeoutMs,
      openStream: () => this.#watchClient.watchClient.watch({ credentials: requireLeader }),
      toKeyValue: (kv) => this.#kvOf(kv),
      onEnd: (w) => this.#watchers.delete(w),
    });
    if (this.#closed) watch.fail(closedError());
    else if (opts.afterRevision < this.#compacted) {
      watch.fail(
        new StorageError(
          'Compacted',
          prefix,
          `revision ${opts.afterRevision + 1} has been compacted (up to ${this.#compacted})`
        )
      );
    } else {
      this.#watchers.add(watch);
      watch.start();
    }
    return watch;
  }

  async compact(revision: number): Promise<void> {
    if (this.#closed) throw closedError();
    if (revision <= this.#compacted) return;
    try {
      await this.#call('', (options) => this.#client.kv.compact({ revision }, options));
    } catch (err) {
      // Another server compacted this far or further: the history is gone either way.
      if (!(err instanceof StorageError && err.code === 'Compacted')) throw err;
    }
    this.#compacted = Math.max(this.#compacted, revision);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watch of this.#watchers) watch.fail(closedError());
    this.#client.close();
    this.#watchClient.close();
  }

  async #readable(revision: number): Promise<boolean> {
    try {
      await this.#call('', (options) =>
        this.#client.kv.range({ key: this.#toEtcd(storeRoot), revision, count_only: true }, options)
      );
      return true;
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted') return false;
      throw err;
    }
  }

  /** Runs one etcd call under the store's deadline, turning its failure into a StorageError. */
  async #call<T>(key: string, fn: (options: CallOptions) => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    try {
      return await fn({ deadline: Date.now() + this.#timeoutMs });
    } catch (err) {
      if (this.#closed) throw closedError();
      throw fromEtcdError(err, key, this.#timeoutMs);
    }
  }

  #txn(key: string, req: ITxnRequest): Promise<ITxnResponse> {
    return this.#call(key, (options) => this.#client.kv.txn(req, options));
  }

  /** A compare failed: the key is missing (KeyNotFound) or at another revision (Conflict with its value). */
  #preconditionFailed(key: string, current: IKeyValue | undefined, expected: number | undefined): never {
    if (!current) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
    const kv = this.#kvOf(current);
    const message = `key ${key} is at revision ${kv.modRevision}, not the expected ${expected}`;
    throw new StorageError('Conflict', key, message, kv);
  }

  /** The etcd range of the Store keys starting with `prefix`; a prefix of the root itself (e.g. '') means them all. */
  #prefixRange(prefix: string): Range {
    return Range.prefix(storeRoot.startsWith(prefix) ? this.#prefix : this.#toEtcd(prefix));
  }

  #toEtcd(key: string): Buffer {
    if (!key.startsWith(storeRoot))
      throw new RangeError(`storage key ${JSON.stringify(key)} is not under ${storeRoot}`);
    return Buffer.from(this.#prefix + key.slice(storeRoot.length));
  }

  #kvOf(kv: IKeyValue): KeyValue {
    return {
      key: storeRoot + kv.key.toString().slice(this.#prefix.length),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }
}

function closedError(): StorageError {
  return new StorageError('Closed', '', 'storage is closed');
}
