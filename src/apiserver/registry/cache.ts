// A resource held in memory and kept current by a storage watch (a small reflector): the RBAC authorizer reads
// roles and bindings from here on every request instead of from storage. On any watch failure it re-lists.
import type { KubeObject } from '../../api/resource.js';
import type { Logger } from '../../lib/log.js';
import type { RegistryStore } from './store.js';

export class ObjectCache {
  readonly #items = new Map<string, KubeObject>();
  readonly #stop = new AbortController();
  #synced: Promise<void>;
  #markSynced!: () => void;

  constructor(
    private readonly store: RegistryStore,
    private readonly log: Logger
  ) {
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  static keyOf(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.#items.get(ObjectCache.keyOf(namespace, name));
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Resolves once the first list is loaded. */
  synced(): Promise<void> {
    return this.#synced;
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stop.abort();
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        const list = await this.store.list('', {});
        this.#items.clear();
        for (const o of list.items) this.#items.set(ObjectCache.keyOf(o.metadata?.namespace, o.metadata!.name!), o);
        this.#markSynced();
        for await (const ev of this.store.watch('', {}, Number(list.resourceVersion), this.#stop.signal)) {
          if (ev.type === 'ERROR') break; // compacted: re-list
          const key = ObjectCache.keyOf(ev.object.metadata?.namespace, ev.object.metadata!.name!);
          if (ev.type === 'DELETED') this.#items.delete(key);
          else this.#items.set(key, ev.object);
        }
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        this.log.warn({ err, resource: this.store.def.resource }, 'cache watch failed; re-listing');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
