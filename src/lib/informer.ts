// List then watch, forever: every object arrives as ADDED first, then changes; a broken or expired watch
// re-lists (client-go's reflector, reduced to what components here need). A re-list reports objects that
// vanished while no watch was open as DELETED, as client-go's DeltaFIFO Replace does, so a consumer never keeps
// an object the server no longer has.
import type { KubeClient } from './kube-client.js';
import type { Logger } from './log.js';

export type EventHandler<T> = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;

interface Meta {
  metadata?: { namespace?: string; name?: string; resourceVersion?: string };
}

const keyOf = (o: Meta): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export interface InformerOptions {
  /** Called after each complete list has been delivered (client-go's HasSynced). */
  onSynced?: () => void;
}

export async function runInformer<T>(
  client: KubeClient,
  path: string,
  log: Logger,
  signal: AbortSignal,
  onEvent: EventHandler<T>,
  opts: InformerOptions = {}
): Promise<void> {
  const known = new Map<string, T>();
  const sep = path.includes('?') ? '&' : '?';
  while (!signal.aborted) {
    try {
      const list = await client.get<{ metadata: { resourceVersion: string }; items: T[] }>(path);
      const seen = new Set<string>();
      for (const item of list.items) {
        const key = keyOf(item as Meta);
        seen.add(key);
        onEvent(known.has(key) ? 'MODIFIED' : 'ADDED', item);
        known.set(key, item);
      }
      for (const [key, obj] of known)
        if (!seen.has(key)) {
          known.delete(key);
          onEvent('DELETED', obj);
        }
      opts.onSynced?.();
      let rv = list.metadata.resourceVersion;
      for await (const ev of client.watch<T & Meta>(
        `${path}${sep}resourceVersion=${rv}&allowWatchBookmarks=true`,
        signal
      )) {
        if (ev.type === 'ERROR') break;
        rv = ev.object.metadata?.resourceVersion ?? rv;
        if (ev.type === 'BOOKMARK') continue;
        if (ev.type === 'DELETED') known.delete(keyOf(ev.object));
        else known.set(keyOf(ev.object), ev.object);
        onEvent(ev.type, ev.object);
      }
    } catch (err) {
      if (signal.aborted) return;
      log.warn({ err: err instanceof Error ? err.message : String(err), path }, 'watch failed; re-listing');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
