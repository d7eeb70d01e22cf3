// The root CA publisher (upstream pkg/controller/certificates/rootcacertpublisher): every namespace has the
// ConfigMap `kube-root-ca.crt` whose `ca.crt` is the bundle that verifies the API server (--root-ca-file, by
// default the cluster CA). It is created with the namespace, re-created when deleted and restored when edited.
// Pods read it through their projected service-account volume.
import { hasStatusCause, isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { jsonEqual } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

export const rootCAConfigMapName = 'kube-root-ca.crt';
const descriptionAnnotation = 'kubernetes.io/description';
const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the ' +
  'internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; [k: string]: unknown };
  data?: Record<string, string>;
}
interface Namespace {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { phase?: string };
}

export function runRootCAPublisher(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  rootCA: string
): Promise<void> {
  const data = { 'ca.crt': rootCA };
  const queue = new WorkQueue(
    async (namespace): Promise<void> => {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
      let cm: ConfigMap | undefined;
      try {
        cm = await client.get<ConfigMap>(`${path}/${rootCAConfigMapName}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        if (!cm) {
          await client.request('POST', path, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: rootCAConfigMapName, annotations: { [descriptionAnnotation]: description } },
            data,
          });
          log.info({ namespace }, `created ConfigMap ${rootCAConfigMapName}`);
          return;
        }
        if (jsonEqual(cm.data ?? {}, data) && cm.metadata.annotations?.[descriptionAnnotation]) return;
        await client.request('PUT', `${path}/${rootCAConfigMapName}`, {
          ...cm,
          metadata: {
            ...cm.metadata,
            annotations: { ...cm.metadata.annotations, [descriptionAnnotation]: description },
          },
          data,
        });
        log.info({ namespace }, `restored ConfigMap ${rootCAConfigMapName}`);
      } catch (err) {
        // A namespace that is going away is not retried (upstream); a race with another writer is, at once.
        if (isNotFound(err) || hasStatusCause(err, 'NamespaceTerminating')) return;
        if (isAlreadyExists(err) || isConflict(err)) return queue.add(namespace);
        throw err;
      }
    },
    log,
    signal
  );
  const namespaces = runInformer<Namespace>(client, '/api/v1/namespaces', log, signal, (type, ns) => {
    if (type !== 'DELETED' && !ns.metadata.deletionTimestamp) queue.add(ns.metadata.name);
  });
  const configMaps = runInformer<ConfigMap>(
    client,
    `/api/v1/configmaps?fieldSelector=${encodeURIComponent(`metadata.name=${rootCAConfigMapName}`)}`,
    log,
    signal,
    (type, cm) => {
      if (type === 'ADDED') return; // the namespace informer already queues every namespace
      if (type === 'DELETED' || !jsonEqual(cm.data ?? {}, data)) queue.add(cm.metadata.namespace);
    }
  );
  return Promise.all([namespaces, configMaps]).then(() => undefined);
}
