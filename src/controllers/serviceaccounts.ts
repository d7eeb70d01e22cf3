// The service-account controller (upstream pkg/controller/serviceaccount, "serviceaccount-controller"): every
// namespace that is not terminating has a ServiceAccount `default`, created with the namespace and re-created
// when deleted. ServiceAccount admission (and the pods that use the default account) wait for it.
import { hasStatusCause, isAlreadyExists, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

interface Namespace {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { phase?: string };
}
interface ServiceAccount {
  metadata: { name: string; namespace: string };
}

const defaultName = 'default';
const isActive = (ns: Namespace): boolean => !ns.metadata.deletionTimestamp && ns.status?.phase !== 'Terminating';

export function runServiceAccountController(client: KubeClient, log: Logger, signal: AbortSignal): Promise<void> {
  const queue = new WorkQueue(
    async (namespace) => {
      const ns = encodeURIComponent(namespace);
      try {
        if (!isActive(await client.get<Namespace>(`/api/v1/namespaces/${ns}`))) return;
        await client.get(`/api/v1/namespaces/${ns}/serviceaccounts/${defaultName}`);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await client.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: defaultName },
        });
        log.info({ namespace }, 'created ServiceAccount default');
      } catch (err) {
        // Gone or terminating meanwhile: nothing to do, the namespace is going away.
        if (isAlreadyExists(err) || isNotFound(err) || hasStatusCause(err, 'NamespaceTerminating')) return;
        throw err;
      }
    },
    log,
    signal
  );
  const namespaces = runInformer<Namespace>(client, '/api/v1/namespaces', log, signal, (type, ns) => {
    if (type !== 'DELETED' && isActive(ns)) queue.add(ns.metadata.name);
  });
  const accounts = runInformer<ServiceAccount>(
    client,
    `/api/v1/serviceaccounts?fieldSelector=${encodeURIComponent(`metadata.name=${defaultName}`)}`,
    log,
    signal,
    (type, sa) => {
      if (type === 'DELETED') queue.add(sa.metadata.namespace);
    }
  );
  return Promise.all([namespaces, accounts]).then(() => undefined);
}
