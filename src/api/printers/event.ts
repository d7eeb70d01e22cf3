// Events, core/v1 and events.k8s.io/v1 (upstream printEvent). Upstream prints both from the internal Event, so the
// events.k8s.io/v1 fields are first mapped to their core/v1 names, as the API conversion does.
import type { Event as CoreEvent, EventSource, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import type { KubeObject } from '../resource.js';
import { column, nameColumn, nameOf, wide, type Printer } from './columns.js';
import { docs } from './descriptions.js';
import { translateTimestampSince } from './duration.js';

/** The fields the printer reads, with core/v1 names. */
interface EventView {
  involvedObject: ObjectReference;
  source?: EventSource;
  reportingComponent?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
  type?: string;
  reason?: string;
  message?: string;
}

function fromEventsV1(e: EventsEvent): EventView {
  return {
    involvedObject: e.regarding ?? {},
    source: e.deprecatedSource,
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    eventTime: e.eventTime,
    count: e.deprecatedCount,
    series: e.series,
    type: e.type,
    reason: e.reason,
    message: e.note,
  };
}

function fromCoreV1(e: CoreEvent): EventView {
  return { ...e, involvedObject: e.involvedObject ?? {} };
}

/** `component, host`, falling back to the reporting controller and instance of the newer API. */
function formatEventSource(e: EventView): string {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function eventCells(e: EventView, name: string, now: Date): unknown[] {
  const firstSeen = e.firstTimestamp
    ? translateTimestampSince(e.firstTimestamp, now)
    : translateTimestampSince(e.eventTime, now);
  let lastSeen = e.lastTimestamp ? translateTimestampSince(e.lastTimestamp, now) : firstSeen;
  let count = e.count ?? 0;
  if (e.series) {
    lastSeen = translateTimestampSince(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Singleton events of the newer API carry no count.
    count = 1;
  }
  const { kind = '', name: objectName, fieldPath = '' } = e.involvedObject;
  const target = objectName ? `${kind.toLowerCase()}/${objectName}` : kind.toLowerCase();
  return [
    lastSeen,
    e.type ?? '',
    e.reason ?? '',
    target,
    fieldPath,
    formatEventSource(e),
    (e.message ?? '').trim(),
    firstSeen,
    count,
    name,
  ];
}

const columns = [
  column('Last Seen', 'string', docs.event.lastTimestamp),
  column('Type', 'string', docs.event.type),
  column('Reason', 'string', docs.event.reason),
  column('Object', 'string', docs.event.involvedObject),
  column('Subobject', 'string', docs.objectReference.fieldPath, { priority: wide }),
  column('Source', 'string', docs.event.source, { priority: wide }),
  column('Message', 'string', docs.event.message),
  column('First Seen', 'string', docs.event.firstTimestamp, { priority: wide }),
  column('Count', 'string', docs.event.count, { priority: wide }),
  { ...nameColumn, priority: wide },
];

export const coreEventPrinter: Printer = {
  columns,
  cells: (obj: KubeObject, now: Date) => eventCells(fromCoreV1(obj as unknown as CoreEvent), nameOf(obj), now),
};

export const eventsEventPrinter: Printer = {
  columns,
  cells: (obj: KubeObject, now: Date) => eventCells(fromEventsV1(obj as unknown as EventsEvent), nameOf(obj), now),
};
