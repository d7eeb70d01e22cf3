// events.k8s.io/v1 events (k8s ValidateEventCreate/Update for the strict, non-legacy API). Field paths use the
// events.k8s.io/v1 names the client sent (`note`, `regarding`, `deprecatedSource`); upstream reports the internal
// core names.
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { obj, str } from '../../validation/json.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { validateImmutableField } from '../../validation/object-meta.js';
import { eventLimits, eventSelectableFields, validateReporting } from '../core/events.js';

function validateSeries(ev: KubeObject): FieldError[] {
  if (ev.series == null) return [];
  const series = obj(ev.series);
  const errs: FieldError[] = [];
  if (typeof series.count !== 'number' || series.count < 2)
    errs.push(path('series').child('count').invalid('', 'should be at least 2'));
  if (!series.lastObservedTime) errs.push(path('series').child('lastObservedTime').required());
  return errs;
}

function validateEvent(ev: KubeObject): FieldError[] {
  const namespace = ev.metadata?.namespace ?? '';
  const regardingNamespace = str(obj(ev.regarding).namespace);
  const errs: FieldError[] = [];
  if (!regardingNamespace && namespace !== 'default' && namespace !== 'kube-system') {
    errs.push(path('regarding').child('namespace').invalid(regardingNamespace, 'does not match event.namespace'));
  }
  errs.push(...isDNS1123Subdomain(namespace).map((msg) => path('namespace').invalid(namespace, msg)));
  errs.push(...validateSeries(ev));
  if (!ev.eventTime) errs.push(path('eventTime').required());
  if (ev.type !== 'Normal' && ev.type !== 'Warning')
    errs.push(path('type').invalid('', `has invalid value: ${str(ev.type)}`));
  for (const f of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp'])
    if (ev[f]) errs.push(path(f).invalid('', 'needs to be unset'));
  if (ev.deprecatedCount) errs.push(path('deprecatedCount').invalid('', 'needs to be unset'));
  const source = obj(ev.deprecatedSource);
  if (str(source.component) || str(source.host)) errs.push(path('deprecatedSource').invalid('', 'needs to be unset'));
  const reporting = {
    reportingController: str(ev.reportingController),
    reportingInstance: str(ev.reportingInstance),
    action: str(ev.action),
  };
  errs.push(...validateReporting(reporting, 'reportingController'));
  const reason = str(ev.reason);
  if (!reason) errs.push(path('reason').required());
  if (reason.length > eventLimits.reason)
    errs.push(path('reason').invalid('', `can have at most ${eventLimits.reason} characters`));
  if (str(ev.note).length > eventLimits.note)
    errs.push(path('note').invalid('', `can have at most ${eventLimits.note} characters`));
  return errs;
}

// What an event says happened is fixed; only its series (repeat count) moves on.
const immutableFields = [
  'regarding',
  'reason',
  'note',
  'deprecatedSource',
  'deprecatedFirstTimestamp',
  'deprecatedLastTimestamp',
  'deprecatedCount',
  'type',
  'action',
  'reportingController',
  'reportingInstance',
  'eventTime',
  'related',
];

export const events: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  strategy: {
    validate: validateEvent,
    validateUpdate: (ev, old) => [
      ...validateEvent(ev),
      ...immutableFields.flatMap((f) => validateImmutableField(ev[f], old[f], path(f))),
    ],
    selectableFields: eventSelectableFields,
  },
};
