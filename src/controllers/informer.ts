// List then watch, forever: every object arrives as ADDED first, then changes; a broken or expired watch
// re-lists (client-go's reflector, reduced to what the controllers here need).
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';

export type EventHandler<T> = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;

export async function runInformer<T>(
  client: KubeClient,
  path: string,
  log: Logger,
  signal: AbortSignal,
  onEvent: EventHandler<T>
): Promise<void> {
  while (!signal.aborted) {
    try {
      const list = await client.get<{ metadata: { resourceVersion: string }; items: T[] }>(path);
      for (const item of list.items) onEvent('ADDED', item);
      let rv = list.metadata.resourceVersion;
      for await (const ev of client.watch<T & { metadata?: { resourceVersion?: string } }>(
        `${path}?resourceVersion=${rv}&allowWatchBookmarks=true`,
        signal
      )) {
        if (ev.type === 'ERROR') break;
        rv = ev.object.metadata?.resourceVersion ?? rv;
        if (ev.type !== 'BOOKMARK') onEvent(ev.type, ev.object);
      }
    } catch (err) {
      if (signal.aborted) return;
      log.warn({ err: err instanceof Error ? err.message : String(err), path }, 'watch failed; re-listing');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
