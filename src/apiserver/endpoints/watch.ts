// WATCH (upstream handlers/watch.go): a stream of `{"type","object"}` JSON lines, served by the watch cache.
// resourceVersion unset (a consistent read) or "0" (any cached state) starts with the current state as ADDED
// events; a number starts after it (an ERROR 410 event when the cache's window no longer reaches it). Bookmarks
// carry the revision the cache reached; timeoutSeconds (or a randomized default) ends the stream. A client that
// stops reading is cut off once its watcher's buffer is full.
import type { ServerResponse } from 'node:http';
import { constants } from 'node:http2';
import { negotiateObjectOutput } from './negotiate.js';
import { parseResourceVersion, type ListQuery, type ObjectEvent, type RegistryStore } from '../registry/store.js';
import type { RequestContext, Request, Response } from '../context.js';
import type { EndpointsConfig } from './resource.js';
import { renderTable } from './resource.js';
import { boolParam, intParam } from './query.js';
import { sharedJSON } from './responses.js';

const eventEnd = Buffer.from('}\n');

/** Upstream's --min-request-timeout: a watch without timeoutSeconds lasts between this and twice this. */
const minRequestTimeoutMs = 1800_000;

export async function serveWatch(
  ctx: RequestContext,
  req: Request,
  res: Response,
  store: RegistryStore,
  ns: string,
  q: ListQuery,
  c: EndpointsConfig
): Promise<void> {
  const params = ctx.url.searchParams;
  const out = negotiateObjectOutput(req, ctx.url);
  const timeoutSeconds = intParam(params, 'timeoutSeconds');
  const bookmarks = boolParam(params, 'allowWatchBookmarks');
  const rv = q.resourceVersion ?? '';
  // Single-object watches (GET .../watch/namespaces/ns/pods/name) are a watch with a name field selector.
  const name = ctx.requestInfo.name;

  const abort = new AbortController();
  const onClose = (): void => abort.abort();
  ctx.signal.addEventListener('abort', onClose, { once: true });
  const timeoutMs = timeoutSeconds !== undefined ? timeoutSeconds * 1000 : minRequestTimeoutMs * (1 + Math.random());
  const timer = setTimeout(onClose, timeoutMs);

  let first = true;
  const write = (ev: ObjectEvent): boolean => {
    if (out.as !== 'Table' || ev.type === 'BOOKMARK' || ev.type === 'ERROR') {
      // The object's encoding is shared with every other watcher of the same event.
      const head = Buffer.from(`{"type":"${ev.type}","object":`);
      return (res as ServerResponse).write(Buffer.concat([head, sharedJSON(ev.object), eventEnd]));
    }
    const table = renderTable(store, [ev.object], out, { resourceVersion: ev.object.metadata?.resourceVersion }) as {
      columnDefinitions?: unknown[];
    };
    if (!first) table.columnDefinitions = [];
    first = false;
    return (res as ServerResponse).write(JSON.stringify({ type: ev.type, object: table }) + '\n');
  };
  const matchesName = (ev: ObjectEvent): boolean => !name || ev.object.metadata?.name === name;

  try {
    let after: number;
    const initial: ObjectEvent[] = [];
    if (rv === '' || rv === '0') {
      const list = await store.list(ns, {
        labelSelector: q.labelSelector,
        fieldSelector: q.fieldSelector,
        resourceVersion: rv,
      });
      after = Number(list.resourceVersion);
      for (const item of list.items) initial.push({ type: 'ADDED', object: item });
    } else {
      after = parseResourceVersion(rv);
    }
    ctx.statusCode = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    // An HTTP/1.1 response holds its headers until the first body write; a watcher waits for them to start.
    if ('flushHeaders' in res) res.flushHeaders();
    for (const ev of initial) if (matchesName(ev)) write(ev);
    const events = store.watch(ns, q, after, abort.signal, {
      bookmarkIntervalMs: bookmarks ? c.bookmarkIntervalMs : undefined,
      // The cut-off watcher's ERROR event cannot reach a client that does not read: drop the connection.
      onCutOff: (err) => {
        c.log.info(
          { resource: store.def.resource, namespace: ns, user: ctx.user?.name, reason: err.message },
          'forcing watcher close due to unresponsiveness'
        );
        abort.abort();
        destroyResponse(res);
      },
    });
    for await (const ev of events) {
      if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR' && !matchesName(ev)) continue;
      if (!write(ev)) await waitDrain(res, abort.signal);
      if (ev.type === 'ERROR') break;
    }
    res.end();
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onClose);
  }
}

function destroyResponse(res: Response): void {
  if ('stream' in res) res.stream.close(constants.NGHTTP2_CANCEL);
  else res.destroy();
}

/** Backpressure: a slow reader pauses this watch instead of growing its buffer without bound. */
function waitDrain(res: Response, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
