// The generic registry store (k8s apiserver/pkg/registry/generic/registry/store.go): one per resource, it turns
// API operations into storage operations. It owns what every resource shares: keys, resourceVersion, uid,
// creationTimestamp, generation, the status subresource split, validation, admission, graceful deletion and
// finalizers, dry run. Per-resource differences come from the ResourceDef strategy and RegistryHooks.
import { randomUUID } from 'node:crypto';
import {
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newGone,
  newInternalError,
  newInvalid,
  newNotFound,
  newStaleConflict,
  type GroupResource,
  type StatusError,
} from '../../api/errors.js';
import type { FieldError } from '../../api/field.js';
import { clone, jsonEqual, rfc3339 } from '../../api/meta.js';
import { apiVersionOf, type KubeObject, type ResourceDef } from '../../api/resource.js';
import { everything, type Selector } from '../../api/selectors.js';
import {
  fillObjectMetaForUpdate,
  generateName,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../api/validation/index.js';
import { Cacher, type CacheEvent, type CacheListResult, type WatchMux } from '../../storage/cacher/index.js';
import { isStorageError, type KeyValue, type Store } from '../../storage/interface.js';
import type { Logger } from '../../lib/log.js';
import type { AdmissionChain } from '../admission/interface.js';
import type { UserInfo } from '../authz/interface.js';

export interface Operation {
  dryRun: boolean;
  user?: UserInfo;
  admission?: AdmissionChain;
}

export interface ListQuery {
  labelSelector?: Selector;
  fieldSelector?: Selector;
  limit?: number;
  continueToken?: string;
  /** `''` = most recent (consistent read), `'0'` = any, else a revision. */
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface ObjectEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** Per-resource behaviour the generic store calls at fixed points (upstream's strategy and REST overrides). */
export interface RegistryHooks {
  /** Before validation on create (e.g. allocate a Service's ClusterIP). May throw a StatusError. */
  beforeCreate?(obj: KubeObject, op: Operation): Promise<void>;
  /** After the object is gone from storage (release what beforeCreate took). */
  afterDelete?(obj: KubeObject): Promise<void>;
  /** On update of the main resource or a subresource: fix what the caller may not change. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, subresource: string): void;
  /** Grace period for a delete, or 0 to delete at once (pods on a node wait for the kubelet). */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number;
  /** True when something besides metadata.finalizers holds deletion back (a namespace's spec.finalizers). */
  blocksDeletion?(obj: KubeObject): boolean;
  /** Called when a delete only marks the object (finalizers or grace): e.g. namespaces enter Terminating. */
  onMarkDeleted?(obj: KubeObject): void;
}

/** The shared storage watch and the watch cache's sizes (upstream's --watch-cache-sizes, per resource). */
export interface WatchCacheConfig {
  mux: WatchMux;
  /** Events kept for watches that start in the past. @default 1000 */
  windowSize?: number;
  /** Events a watcher may fall behind before it is cut off. @default 1000 */
  watcherBufferSize?: number;
  log?: Logger;
}

export interface WatchOptions {
  /** Send a BOOKMARK this often with the revision the cache reached. */
  bookmarkIntervalMs?: number;
  /** Called when the watcher fell too far behind and was cut off (e.g. to close a connection stuck on a full socket). */
  onCutOff?: (err: Error) => void;
}

/** For a resource stored in another version's shape (events.k8s.io Events are stored as core/v1 Events). */
export interface StorageConversion {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

const continueVersion = 'meta.k8s.io/v1';
const metadataManagedBySystem = [
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
];

function encodeContinue(rv: number, startKey: string): string {
  return Buffer.from(JSON.stringify({ v: continueVersion, rv, start: startKey })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: string;
      rv?: number;
      start?: string;
    };
    if (c.v !== continueVersion || typeof c.rv !== 'number' || typeof c.start !== 'string') throw new Error('bad');
    return { rv: c.rv, start: c.start };
  } catch {
    throw newBadRequest('continue key is not valid: invalid continue token');
  }
}

/** Parses a resourceVersion sent by a client: a decimal revision. */
export function parseResourceVersion(rv: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(rv)) throw newBadRequest(`invalid ${what}: "${rv}"`);
  return Number(rv);
}

export class RegistryStore {
  readonly gr: GroupResource;
  readonly apiVersion: string;
  readonly #prefix: string;
  /** LIST and WATCH are served from here; GET and writes go to storage. */
  readonly cacher: Cacher<KubeObject>;

  constructor(
    readonly def: ResourceDef,
    readonly storage: Store,
    watchCache: WatchCacheConfig,
    readonly hooks: RegistryHooks = {},
    private readonly conversion?: StorageConversion
  ) {
    this.gr = { group: def.group, resource: def.resource };
    this.apiVersion = apiVersionOf(def);
    this.#prefix = `/registry/${def.resource}/`;
    this.cacher = new Cacher<KubeObject>({
      store: storage,
      mux: watchCache.mux,
      prefix: this.#prefix,
      decode: (kv) => this.decode(kv),
      windowSize: watchCache.windowSize,
      watcherBufferSize: watchCache.watcherBufferSize,
      log: watchCache.log,
    });
  }

  key(namespace: string, name: string): string {
    return this.def.namespaced ? `${this.#prefix}${namespace}/${name}` : `${this.#prefix}${name}`;
  }

  /** All of the resource, or one namespace of it (with a trailing slash, so `ns-a` never matches `ns-ab`). */
  prefix(namespace: string): string {
    return this.def.namespaced && namespace ? `${this.#prefix}${namespace}/` : this.#prefix;
  }

  decode(kv: KeyValue): KubeObject {
    let obj: KubeObject;
    try {
      obj = JSON.parse(kv.value) as KubeObject;
    } catch (err) {
      throw newInternalError(new Error(`stored object at ${kv.key} is not valid JSON`, { cause: err }));
    }
    const out = this.conversion ? this.conversion.fromStorage(obj) : obj;
    out.metadata ??= {};
    out.metadata.resourceVersion = String(kv.modRevision);
    return out;
  }

  #encode(obj: KubeObject): string {
    const stored = this.conversion ? this.conversion.toStorage(obj) : obj;
    const copy = { ...stored, metadata: { ...stored.metadata } };
    delete copy.metadata.resourceVersion;
    return JSON.stringify(copy);
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const kv = await this.storage.get(this.key(namespace, name));
    if (!kv) throw newNotFound(this.gr, name);
    return this.decode(kv);
  }

  /** The selectable fields of an object, as upstream's GetAttrs: metadata.name, metadata.namespace + the strategy's. */
  fieldsOf(obj: KubeObject): Record<string, string> {
    const f: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
    if (this.def.namespaced) f['metadata.namespace'] = obj.metadata?.namespace ?? '';
    return { ...f, ...this.def.strategy.selectableFields?.(obj) };
  }

  matches(obj: KubeObject, q: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>): boolean {
    return (
      (q.labelSelector ?? everything).matches(obj.metadata?.labels ?? {}) &&
      (q.fieldSelector ?? everything).matches(this.fieldsOf(obj))
    );
  }

  /**
   * LIST from the watch cache unless the request names an exact revision or continues a paged list (those read
   * storage at that revision, as upstream's cacher delegates them to etcd): resourceVersion unset is a consistent
   * read (the cache first catches up with the store), "0" any cached state, N at least N.
   */
  async list(namespace: string, q: ListQuery): Promise<ListResult> {
    const prefix = this.prefix(namespace);
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const filtering =
      !!(q.labelSelector && !q.labelSelector.isEmpty()) || !!(q.fieldSelector && !q.fieldSelector.isEmpty());
    if (!q.continueToken && q.resourceVersionMatch !== 'Exact') {
      const rv = q.resourceVersion ?? '';
      const cached = await this.cacher.list(prefix, {
        consistent: rv === '',
        minRevision: rv !== '' && rv !== '0' ? parseResourceVersion(rv) : 0,
        limit,
        predicate: filtering ? (o) => this.matches(o, q) : undefined,
      });
      if (cached) return this.#cachedListResult(cached, prefix, limit, filtering);
    }
    return this.#listFromStorage(prefix, q, limit, filtering);
  }

  #cachedListResult(
    cached: CacheListResult<KubeObject>,
    prefix: string,
    limit: number,
    filtering: boolean
  ): ListResult {
    const result: ListResult = { items: cached.items.map((i) => i.object), resourceVersion: String(cached.revision) };
    const last = cached.items.at(-1);
    if (limit && cached.more && last) {
      // The next page reads storage at this revision: the same snapshot the cache held.
      result.continueToken = encodeContinue(cached.revision, last.key.slice(prefix.length) + '\u0000');
      if (!filtering) result.remainingItemCount = cached.remaining;
    }
    return result;
  }

  async #listFromStorage(prefix: string, q: ListQuery, limit: number, filtering: boolean): Promise<ListResult> {
    let revision: number | undefined;
    let startKey: string | undefined;
    if (q.continueToken) {
      const c = decodeContinue(q.continueToken);
      revision = c.rv;
      startKey = prefix + c.start;
      if (!startKey.startsWith(prefix)) throw newBadRequest('continue key is not valid: invalid start key');
    } else if (q.resourceVersion && q.resourceVersion !== '0' && q.resourceVersionMatch === 'Exact') {
      revision = parseResourceVersion(q.resourceVersion);
    } else if (q.resourceVersion && q.resourceVersion !== '0') {
      parseResourceVersion(q.resourceVersion); // NotOlderThan: the newest state satisfies it
    }
    const items: KubeObject[] = [];
    let lastKey = '';
    let more = false;
    let remaining = 0;
    let listRevision = 0;
    // With a selector, a page may need several storage reads to find `limit` matches (as upstream does).
    for (;;) {
      let res;
      try {
        res = await this.storage.list(prefix, {
          revision,
          startKey,
          limit: limit ? Math.max(limit - items.length, filtering ? 100 : 0) : 0,
        });
      } catch (err) {
        if (isStorageError(err, 'Compacted')) {
          throw q.continueToken
            ? newGone(
                'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.'
              )
            : newGone(`too old resource version: ${revision} (${await this.storage.compactedRevision()})`);
        }
        throw err;
      }
      listRevision = res.revision;
      revision = res.revision;
      for (const kv of res.items) {
        lastKey = kv.key;
        const obj = this.decode(kv);
        if (!filtering || this.matches(obj, q)) items.push(obj);
        if (limit && items.length >= limit) break;
      }
      more = res.more || (limit > 0 && lastKey !== (res.items.at(-1)?.key ?? lastKey));
      remaining = res.remaining;
      if (!limit || items.length >= limit || !res.more) break;
      startKey = lastKey + '\u0000';
    }
    const result: ListResult = { items, resourceVersion: String(listRevision) };
    if (limit && more) {
      result.continueToken = encodeContinue(listRevision, lastKey.slice(prefix.length) + '\u0000');
      if (!filtering) result.remainingItemCount = remaining;
    }
    return result;
  }

  #validateCreate(obj: KubeObject): FieldError[] {
    return [...validateObjectMeta(obj, this.def), ...(this.def.strategy.validate?.(obj) ?? [])];
  }

  /** Spec rules apply to writes of the main resource; a subresource handler validates its own input. */
  #validateUpdate(obj: KubeObject, old: KubeObject, subresource: string): FieldError[] {
    const s = this.def.strategy;
    const meta = validateObjectMetaUpdate(obj, old, this.def);
    if (subresource !== '') return meta;
    return [...meta, ...(s.validateUpdate ? s.validateUpdate(obj, old) : (s.validate?.(obj) ?? []))];
  }

  #invalid(obj: KubeObject, errs: FieldError[]): Error {
    return newInvalid(this.def.kind, this.def.group, obj.metadata?.name ?? '', errs);
  }

  async create(namespace: string, input: KubeObject, op: Operation): Promise<KubeObject> {
    const obj = clone(input);
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
    const meta = (obj.metadata ??= {});
    if (this.def.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    for (const f of metadataManagedBySystem) delete meta[f];
    delete meta.resourceVersion;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339();
    if (this.def.hasStatus && this.def.resource !== 'namespaces' && this.def.resource !== 'pods') delete obj.status;
    this.def.strategy.defaults?.(obj);
    meta.generation = 1;
    const attrs = {
      operation: 'CREATE' as const,
      def: this.def,
      subresource: '',
      namespace,
      name: meta.name ?? '',
      object: obj,
      user: op.user,
      dryRun: op.dryRun,
    };
    await op.admission?.admit(attrs);
    const errs = this.#validateCreate(obj);
    if (errs.length) throw this.#invalid(obj, errs);
    await op.admission?.validate(attrs);
    await this.hooks.beforeCreate?.(obj, op);
    if (op.dryRun) {
      if (await this.storage.get(this.key(namespace, meta.name!))) throw newAlreadyExists(this.gr, meta.name!);
      return obj;
    }
    try {
      return this.decode(await this.storage.create(this.key(namespace, meta.name!), this.#encode(obj)));
    } catch (err) {
      await this.hooks.afterDelete?.(obj);
      if (isStorageError(err, 'KeyExists')) throw newAlreadyExists(this.gr, meta.name!);
      throw err;
    }
  }

  /**
   * Read-modify-write with optimistic concurrency (upstream's GuaranteedUpdate). `tryUpdate` gets a copy of the
   * current object and returns the desired one; when the caller named a resourceVersion a mismatch is a 409,
   * otherwise a concurrent write is retried.
   */
  async guaranteedUpdate(
    namespace: string,
    name: string,
    op: Operation & { subresource?: string },
    tryUpdate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    createIfMissing?: () => Promise<KubeObject>
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.key(namespace, name);
    const subresource = op.subresource ?? '';
    for (let attempt = 0; ; attempt++) {
      const kv = await this.storage.get(key);
      if (!kv) {
        if (createIfMissing && subresource === '')
          return { object: await this.create(namespace, await createIfMissing(), op), created: true };
        throw newNotFound(this.gr, name);
      }
      const old = this.decode(kv);
      const obj = clone(await tryUpdate(clone(old)));
      const wantRV = obj.metadata?.resourceVersion;
      if (wantRV && wantRV !== old.metadata!.resourceVersion) {
        parseResourceVersion(wantRV);
        throw newStaleConflict(this.gr, name);
      }
      this.#prepareUpdate(obj, old, namespace, subresource);
      const attrs = {
        operation: 'UPDATE' as const,
        def: this.def,
        subresource,
        namespace,
        name,
        object: obj,
        oldObject: old,
        user: op.user,
        dryRun: op.dryRun,
      };
      await op.admission?.admit(attrs);
      const errs = this.#validateUpdate(obj, old, subresource);
      if (errs.length) throw this.#invalid(obj, errs);
      await op.admission?.validate(attrs);
      const unchanged = jsonEqual(
        { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } },
        { ...old, metadata: { ...old.metadata, resourceVersion: undefined } }
      );
      // A no-op update does not write (upstream skips unchanged objects, keeping resourceVersion).
      if (unchanged || op.dryRun) return { object: unchanged ? old : obj, created: false };
      // Removing the last finalizer of an object marked for deletion completes the deletion.
      if (obj.metadata?.deletionTimestamp && !obj.metadata.finalizers?.length && this.#graceElapsed(obj)) {
        try {
          const gone = this.decode(await this.storage.delete(key, kv.modRevision));
          await this.hooks.afterDelete?.(gone);
          return {
            object: { ...obj, metadata: { ...obj.metadata, resourceVersion: gone.metadata!.resourceVersion } },
            created: false,
          };
        } catch (err) {
          if (isStorageError(err, 'Conflict') && !wantRV && attempt < 16) continue;
          throw err;
        }
      }
      try {
        return {
          object: this.decode(await this.storage.update(key, this.#encode(obj), kv.modRevision)),
          created: false,
        };
      } catch (err) {
        if (isStorageError(err, 'Conflict')) {
          if (wantRV || attempt >= 16) throw newStaleConflict(this.gr, name);
          continue;
        }
        if (isStorageError(err, 'KeyNotFound')) throw newNotFound(this.gr, name);
        throw err;
      }
    }
  }

  #graceElapsed(obj: KubeObject): boolean {
    return !obj.metadata?.deletionGracePeriodSeconds;
  }

  /** Fixes what an update may not change: identity, system metadata, and the status/spec split. */
  #prepareUpdate(obj: KubeObject, old: KubeObject, namespace: string, subresource: string): void {
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
    const meta = (obj.metadata ??= {});
    const oldMeta = old.metadata!;
    if (meta.name === undefined) meta.name = oldMeta.name;
    if (this.def.namespaced && meta.namespace === undefined) meta.namespace = namespace;
    fillObjectMetaForUpdate(obj, old);
    // Deletion state and generation are the server's.
    for (const f of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (oldMeta[f] === undefined) delete meta[f];
      else (meta as Record<string, unknown>)[f] = oldMeta[f];
    }
    if (this.def.hasStatus) {
      if (subresource === 'status') {
        // A status write changes status only (and metadata, as upstream allows), never the spec.
        const status = obj.status;
        for (const k of Object.keys(obj)) if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
        for (const [k, v] of Object.entries(old))
          if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') obj[k] = clone(v);
        if (status !== undefined) obj.status = status;
        if (!meta.deletionTimestamp) meta.finalizers = oldMeta.finalizers ? [...oldMeta.finalizers] : meta.finalizers;
      } else if (subresource === '') {
        if (old.status === undefined) delete obj.status;
        else obj.status = clone(old.status);
      }
    }
    this.hooks.prepareForUpdate?.(obj, old, subresource);
    this.def.strategy.defaults?.(obj);
    if (subresource === '' && specChanged(obj, old)) meta.generation = (oldMeta.generation ?? 1) + 1;
    // A new finalizer cannot be added once deletion started (upstream: "no new finalizers can be added").
  }

  async delete(
    namespace: string,
    name: string,
    opts: DeleteOptions,
    op: Operation
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.storage.get(key);
      if (!kv) throw newNotFound(this.gr, name);
      const obj = this.decode(kv);
      const meta = obj.metadata!;
      if (opts.preconditions?.uid && opts.preconditions.uid !== meta.uid)
        throw newConflict(
          this.gr,
          name,
          `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${meta.uid}`
        );
      if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== meta.resourceVersion)
        throw newConflict(
          this.gr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`
        );
      await op.admission?.validate({
        operation: 'DELETE',
        def: this.def,
        subresource: '',
        namespace,
        name,
        oldObject: obj,
        user: op.user,
        dryRun: op.dryRun,
      });
      const grace = this.hooks.gracePeriod?.(obj, opts.gracePeriodSeconds) ?? 0;
      // propagationPolicy is validated by the handler; with no garbage collector yet, dependents are left in place.
      const finalizers = [...(meta.finalizers ?? [])];
      if (finalizers.length > 0 || grace > 0 || this.hooks.blocksDeletion?.(obj)) {
        // Mark only: finalizers (or the kubelet, for a pod's grace period) finish the deletion.
        if (
          meta.deletionTimestamp &&
          (meta.deletionGracePeriodSeconds ?? 0) <= grace &&
          jsonEqual(finalizers, meta.finalizers ?? [])
        ) {
          return { object: obj, deleted: false };
        }
        const marked = clone(obj);
        const mm = marked.metadata!;
        const now = Date.now();
        const newDeadline = rfc3339(new Date(now + grace * 1000));
        if (!mm.deletionTimestamp || newDeadline < mm.deletionTimestamp) mm.deletionTimestamp = newDeadline;
        mm.deletionGracePeriodSeconds = grace;
        mm.finalizers = finalizers;
        this.hooks.onMarkDeleted?.(marked);
        if (op.dryRun) return { object: marked, deleted: false };
        try {
          return {
            object: this.decode(await this.storage.update(key, this.#encode(marked), kv.modRevision)),
            deleted: false,
          };
        } catch (err) {
          if (isStorageError(err, 'Conflict') && attempt < 16) continue;
          throw err;
        }
      }
      if (op.dryRun) return { object: obj, deleted: true };
      try {
        const gone = this.decode(await this.storage.delete(key, kv.modRevision));
        await this.hooks.afterDelete?.(gone);
        return { object: obj, deleted: true };
      } catch (err) {
        if (isStorageError(err, 'Conflict') && attempt < 16) continue;
        if (isStorageError(err, 'KeyNotFound')) throw newNotFound(this.gr, name);
        throw err;
      }
    }
  }

  /**
   * Watch from `afterRevision` (exclusive), served by the watch cache. With selectors, an object that starts
   * matching arrives as ADDED and one that stops matching as DELETED, as upstream's filtered watch does. A
   * revision older than the cache's window is an ERROR 410 event; so is being cut off for falling behind (the
   * client re-lists).
   */
  async *watch(
    namespace: string,
    q: ListQuery,
    afterRevision: number,
    signal: AbortSignal,
    opts: WatchOptions = {}
  ): AsyncGenerator<ObjectEvent> {
    let w;
    try {
      w = await this.cacher.watch(this.prefix(namespace), {
        afterRevision,
        transform: (ev) => this.#toObjectEvent(ev, q),
        onCutOff: opts.onCutOff,
      });
    } catch (err) {
      if (isStorageError(err, 'Compacted')) {
        yield errorEvent(newGone(err.message));
        return;
      }
      throw err;
    }
    const watcher = w;
    const onAbort = (): void => watcher.close();
    signal.addEventListener('abort', onAbort, { once: true });
    const bookmarks = opts.bookmarkIntervalMs
      ? setInterval(() => this.cacher.bookmark(watcher), opts.bookmarkIntervalMs)
      : undefined;
    bookmarks?.unref();
    try {
      for await (const item of watcher) {
        if ('event' in item) yield item.event;
        else
          yield {
            type: 'BOOKMARK',
            object: {
              kind: this.def.kind,
              apiVersion: this.apiVersion,
              metadata: { resourceVersion: String(item.bookmark) },
            },
          };
      }
    } catch (err) {
      // Cut off for falling behind, or the cache was rebuilt: either way the client must list again.
      if (isStorageError(err, 'WatchOverflow') || isStorageError(err, 'Compacted')) {
        yield errorEvent(newGone(`watch of ${this.def.resource} closed: ${err.message}; list again`));
        return;
      }
      throw err;
    } finally {
      clearInterval(bookmarks);
      signal.removeEventListener('abort', onAbort);
      watcher.close();
    }
  }

  #toObjectEvent(ev: CacheEvent<KubeObject>, q: ListQuery): ObjectEvent | null {
    const cur = ev.object;
    const prev = ev.prevObject;
    const curMatch = this.matches(cur, q);
    if (ev.type === 'delete') {
      if (!(prev ? this.matches(prev, q) : curMatch)) return null;
      return { type: 'DELETED', object: cur };
    }
    const prevMatch = prev ? this.matches(prev, q) : false;
    if (curMatch && prevMatch) return { type: 'MODIFIED', object: cur };
    if (curMatch) return { type: 'ADDED', object: cur };
    if (prevMatch) return { type: 'DELETED', object: cur };
    return null;
  }
}

function errorEvent(err: StatusError): ObjectEvent {
  return { type: 'ERROR', object: err.status as unknown as KubeObject };
}

function specChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(obj), strip(old));
}
