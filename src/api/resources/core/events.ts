// core/v1 events (k8s pkg/registry/core/event). Upstream validates core/v1 events leniently (legacyValidateEvent):
// the event's namespace must agree with its object's, and events with an eventTime need reporting fields.
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { obj, str } from '../../validation/json.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { validateLabelName } from '../../validation/object-meta.js';

/** Limits of the reporting fields (core validation's events.go). */
export const eventLimits = { reportingInstance: 128, action: 128, reason: 128, note: 1024 };

/**
 * The checks the legacy (core/v1) and the events.k8s.io/v1 APIs share, for an event already read into the
 * core/v1 field names except for the reporting controller's, which `controllerField` names.
 */
export function validateReporting(
  e: { reportingController: string; reportingInstance: string; action: string },
  controllerField: string
): FieldError[] {
  const errs: FieldError[] = [];
  if (!e.reportingController) errs.push(path(controllerField).required());
  errs.push(...validateLabelName(e.reportingController, path(controllerField)));
  if (!e.reportingInstance) errs.push(path('reportingInstance').required());
  if (e.reportingInstance.length > eventLimits.reportingInstance) {
    errs.push(path('reportingInstance').invalid('', `can have at most ${eventLimits.reportingInstance} characters`));
  }
  if (!e.action) errs.push(path('action').required());
  if (e.action.length > eventLimits.action)
    errs.push(path('action').invalid('', `can have at most ${eventLimits.action} characters`));
  return errs;
}

function validateEvent(ev: KubeObject): FieldError[] {
  const involved = obj(ev.involvedObject);
  const involvedNamespace = str(involved.namespace);
  const namespace = ev.metadata?.namespace ?? '';
  const errs: FieldError[] = [];
  const mismatch = () =>
    path('involvedObject').child('namespace').invalid(involvedNamespace, 'does not match event.namespace');
  if (!ev.eventTime) {
    // Cluster-scoped objects' events live in "default" (old clients) or have no namespace.
    if (involvedNamespace ? namespace !== involvedNamespace : namespace !== '' && namespace !== 'default')
      errs.push(mismatch());
  } else {
    if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
    const reporting = {
      reportingController: str(ev.reportingComponent),
      reportingInstance: str(ev.reportingInstance),
      action: str(ev.action),
    };
    errs.push(...validateReporting(reporting, 'reportingComponent'));
  }
  errs.push(...isDNS1123Subdomain(namespace).map((msg) => path('namespace').invalid(namespace, msg)));
  return errs;
}

/**
 * Upstream's event GetAttrs. events.k8s.io/v1 events are selected by the same core/v1 field names
 * (`involvedObject.*`, `reportingComponent`, `source`), so this reads either shape.
 */
export function eventSelectableFields(ev: KubeObject): Record<string, string> {
  const involved = obj(ev.involvedObject ?? ev.regarding);
  const reportingController = str(ev.reportingComponent ?? ev.reportingController);
  return {
    'involvedObject.kind': str(involved.kind),
    'involvedObject.namespace': str(involved.namespace),
    'involvedObject.name': str(involved.name),
    'involvedObject.uid': str(involved.uid),
    'involvedObject.apiVersion': str(involved.apiVersion),
    'involvedObject.resourceVersion': str(involved.resourceVersion),
    'involvedObject.fieldPath': str(involved.fieldPath),
    reason: str(ev.reason),
    reportingComponent: reportingController,
    source: str(obj(ev.source ?? ev.deprecatedSource).component) || reportingController,
    type: str(ev.type),
  };
}

export const events: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  strategy: { validate: validateEvent, selectableFields: eventSelectableFields },
};
