// The namespace controller (upstream pkg/controller/namespace): when a namespace is deleted it enters
// Terminating; this removes everything in it, resource by resource as discovery lists them, then removes the
// `kubernetes` finalizer through namespaces/finalize, which completes the deletion.
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { isNotFound } from '../api/errors.js';
import { runInformer } from '../lib/informer.js';

interface APIResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

/** Collection paths of every namespaced resource that can be listed and deleted. */
async function namespacedCollections(client: KubeClient): Promise<string[]> {
  const paths: string[] = [];
  const core = await client.get<{ resources: APIResource[] }>('/api/v1');
  for (const r of core.resources)
    if (r.namespaced && !r.name.includes('/') && r.verbs.includes('delete'))
      paths.push(`/api/v1/namespaces/{ns}/${r.name}`);
  const groups = await client.get<{ groups: { preferredVersion: { groupVersion: string } }[] }>('/apis');
  for (const g of groups.groups) {
    const gv = g.preferredVersion.groupVersion;
    const list = await client.get<{ resources: APIResource[] }>(`/apis/${gv}`);
    for (const r of list.resources)
      if (r.namespaced && !r.name.includes('/') && r.verbs.includes('delete'))
        paths.push(`/apis/${gv}/namespaces/{ns}/${r.name}`);
  }
  return paths;
}

export async function finalizeNamespace(client: KubeClient, name: string, log: Logger): Promise<boolean> {
  let remaining = 0;
  for (const template of await namespacedCollections(client)) {
    const path = template.replace('{ns}', encodeURIComponent(name));
    const list = await client.get<{ items: { metadata: { name: string } }[] }>(path);
    for (const item of list.items) {
      try {
        await client.request('DELETE', `${path}/${encodeURIComponent(item.metadata.name)}`, {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: 'Background',
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    remaining += (await client.get<{ items: unknown[] }>(path)).items.length;
  }
  if (remaining > 0) {
    log.info({ namespace: name, remaining }, 'namespace still has content; will retry');
    return false;
  }
  const ns = await client.get<{ spec?: { finalizers?: string[] } }>(`/api/v1/namespaces/${encodeURIComponent(name)}`);
  const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== 'kubernetes');
  await client.request('PUT', `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, {
    ...ns,
    spec: { ...ns.spec, finalizers },
  });
  log.info({ namespace: name }, 'namespace finalized');
  return true;
}

export function runNamespaceController(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const pending = new Map<string, NodeJS.Timeout>();
  const work = (name: string, attempt: number): void => {
    if (signal.aborted) return;
    clearTimeout(pending.get(name));
    pending.set(
      name,
      setTimeout(
        () => {
          pending.delete(name);
          finalizeNamespace(client, name, log).then(
            (done) => done || work(name, attempt + 1),
            (err: unknown) => {
              if (isNotFound(err)) return;
              log.warn({ err, namespace: name }, 'namespace cleanup failed; will retry');
              work(name, attempt + 1);
            }
          );
        },
        attempt === 0 ? 0 : Math.min(1000 * 2 ** Math.min(attempt, 5), 30_000)
      )
    );
  };
  signal.addEventListener('abort', () => pending.forEach((t) => clearTimeout(t)), { once: true });
  return runInformer<{ metadata: { name: string; deletionTimestamp?: string } }>(
    client,
    '/api/v1/namespaces',
    log,
    signal,
    (type, ns) => {
      if (type !== 'DELETED' && ns.metadata.deletionTimestamp) work(ns.metadata.name, 0);
    }
  );
}
