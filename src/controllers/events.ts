// An event recorder (client-go's record.EventRecorder with its correlator, reduced): core/v1 Events about an
// object, and the same event repeated bumps `count` and `lastTimestamp` of the one already written instead of
// adding another, so a pod retried every few seconds does not flood its namespace.
import { hostname } from 'node:os';
import { isNotFound } from '../api/errors.js';
import { rfc3339 } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export type EventRecorder = (
  obj: InvolvedObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  action?: string
) => void;

const maxRemembered = 4096;

export function eventRecorder(client: KubeClient, component: string, log: Logger): EventRecorder {
  const instance = `${component}-${hostname()}`;
  // key → the event last written for it, to bump instead of duplicating.
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  const write = async (
    obj: InvolvedObject,
    type: string,
    reason: string,
    message: string,
    action?: string
  ): Promise<void> => {
    // Events about cluster-scoped objects (nodes) go in "default", as upstream's recorder puts them.
    const namespace = obj.namespace || 'default';
    const key = [obj.kind, namespace, obj.name, obj.uid, type, reason, message].join('\u0000');
    const now = rfc3339();
    const prior = seen.get(key);
    const ns = encodeURIComponent(namespace);
    if (prior) {
      prior.count++;
      try {
        await client.request(
          'PATCH',
          `/api/v1/namespaces/${ns}/events/${encodeURIComponent(prior.name)}`,
          { count: prior.count, lastTimestamp: now },
          'application/merge-patch+json'
        );
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        seen.delete(key);
      }
    }
    // Upstream names events `<object>.<unix nanoseconds in hex>`.
    const nanos = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6));
    const name = `${obj.name}.${nanos.toString(16)}`;
    await client.request('POST', `/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: obj,
      type,
      reason,
      message,
      action,
      source: { component },
      reportingComponent: component,
      reportingInstance: instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    if (seen.size >= maxRemembered) seen.delete(seen.keys().next().value!);
    seen.set(key, { name, namespace, count: 1 });
  };
  return (obj, type, reason, message, action) => {
    write(obj, type, reason, message, action).catch((err: unknown) =>
      log.warn(
        { err: err instanceof Error ? err.message : String(err), reason, object: obj.name },
        'event not recorded'
      )
    );
  };
}
