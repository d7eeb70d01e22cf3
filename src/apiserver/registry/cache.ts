// Synchronous reads of one resource for in-process users (the RBAC authorizer reads roles and bindings on every
// request): a view of the resource's watch cache, so they share its one storage watch instead of keeping a copy.
import type { KubeObject } from '../../api/resource.js';
import type { RegistryStore } from './store.js';

export class ObjectCache {
  constructor(private readonly store: RegistryStore) {}

  get(namespace: string, name: string): KubeObject | undefined {
    return this.store.cacher.get(this.store.key(namespace, name));
  }

  /** Every object, or one namespace's. */
  list(namespace?: string): KubeObject[] {
    return this.store.cacher.items(this.store.prefix(namespace ?? ''));
  }

  /** Starts the watch cache if needed; resolves once it holds the resource. */
  synced(): Promise<void> {
    return this.store.cacher.ready();
  }
}
