// core/v1 and events.k8s.io/v1 Events are one resource in two shapes (upstream pkg/apis/events/v1/conversion.go).
// The core shape is what is stored; events.k8s.io objects are converted on the way in and out.
import type { KubeObject } from '../resource.js';

/** events.k8s.io/v1 field → core/v1 field. */
const renamed: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];
/** Fields with the same name in both shapes. */
const shared = ['eventTime', 'series', 'action', 'reason', 'related', 'reportingInstance', 'type'];

function move(from: KubeObject, to: KubeObject, pairs: [string, string][]): void {
  for (const [a, b] of pairs) if (from[a] !== undefined) to[b] = from[a];
  for (const f of shared) if (from[f] !== undefined) to[f] = from[f];
}

export function eventsV1ToCore(e: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: e.metadata };
  move(e, out, renamed);
  return out;
}

export function coreToEventsV1(e: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: e.metadata };
  move(
    e,
    out,
    renamed.map(([a, b]) => [b, a])
  );
  return out;
}
