// The watch cache: one shared storage watch (WatchMux) feeding one Cacher per resource.
export { Cacher } from './cacher.js';
export type { CacherOptions, CacherListOptions, CacherWatchOptions } from './cacher.js';
export { CacheWatcher } from './cache-watcher.js';
export type { WatcherItem } from './cache-watcher.js';
export type { CacheEvent, CachedObject, CacheListResult } from './watch-cache.js';
export { WatchMux } from './watch-mux.js';
export type { MuxSubscriber } from './watch-mux.js';
