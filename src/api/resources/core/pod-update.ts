// Pod update rules (k8s ValidatePodUpdate): a pod's spec is fixed once created except for container images,
// activeDeadlineSeconds (only shortened), tolerations (only added), removal of scheduling gates, and a negative
// terminationGracePeriodSeconds becoming 1.
import { path, type FieldError, type FieldPath } from '../../field.js';
import { clone, jsonEqual } from '../../meta.js';
import type { KubeObject } from '../../resource.js';
import { obj, objects, str, type JsonObject } from '../../validation/json.js';
import { inclusiveRangeError } from '../../validation/names.js';
import { validatePod } from './pod-validation.js';
import { validateTolerations } from './taints.js';

const updatablePodSpecFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];
const maxInt32 = 2 ** 31 - 1;
const maxDiffLines = 20;

function validateContainerUpdates(
  newList: unknown,
  oldList: unknown,
  p: FieldPath
): { errs: FieldError[]; stop: boolean } {
  const next = objects(newList);
  if (next.length !== objects(oldList).length)
    return { errs: [p.forbidden('pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  next.forEach((c, i) => {
    const image = str(c.image);
    if (!image) errs.push(p.index(i).child('image').required());
    else if (image.trim() !== image)
      errs.push(p.index(i).child('image').invalid(image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validateActiveDeadline(next: unknown, old: unknown, p: FieldPath): FieldError[] {
  if (next != null) {
    if (typeof next !== 'number' || next < 0 || next > maxInt32)
      return [p.invalid(next, inclusiveRangeError(0, maxInt32))];
    if (typeof old === 'number' && old < next) return [p.invalid(next, 'must be less than or equal to previous value')];
  } else if (old != null) {
    return [p.invalid(null, 'must not update from a positive integer to nil value')];
  }
  return [];
}

function validateOnlyAddedTolerations(next: unknown, old: unknown, p: FieldPath): FieldError[] {
  const added = objects(next);
  for (const o of objects(old)) {
    // tolerationSeconds of an existing toleration may change; nothing else about it may.
    const found = added.some((n) => jsonEqual({ ...o, tolerationSeconds: n.tolerationSeconds }, n));
    if (!found) return [p.forbidden('existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(next, p);
}

function validateOnlyDeletedSchedulingGates(next: unknown, old: unknown, p: FieldPath): FieldError[] {
  const oldNames = new Set(objects(old).map((g) => str(g.name)));
  const added = objects(next).find((g) => !oldNames.has(str(g.name)));
  return added ? [p.forbidden(`only deletion is allowed, but found new scheduling gate '${str(added.name)}'`)] : [];
}

/** Leaf differences `old -> new`, so the Forbidden error says what changed (upstream prints a cmp.Diff). */
function diff(a: unknown, b: unknown, at: string, out: string[]): void {
  if (out.length >= maxDiffLines || jsonEqual(a, b)) return;
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects =
    !bothArrays && typeof a === 'object' && typeof b === 'object' && a && b && !Array.isArray(a) && !Array.isArray(b);
  if (bothArrays && a.length === b.length) {
    a.forEach((x, i) => diff(x, b[i], `${at}[${i}]`, out));
  } else if (bothObjects) {
    const ao = a as JsonObject;
    const bo = b as JsonObject;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) diff(ao[k], bo[k], `${at}.${k}`, out);
  } else {
    out.push(`  ${at}: ${JSON.stringify(a) ?? '<unset>'} -> ${JSON.stringify(b) ?? '<unset>'}`);
  }
}

export function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePod(pod);
  const p = path('spec');
  const spec = obj(pod.spec);
  const oldSpec = obj(old.spec);
  for (const list of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(spec[list], oldSpec[list], p.child(list));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const deadlineErrs = validateActiveDeadline(
    spec.activeDeadlineSeconds,
    oldSpec.activeDeadlineSeconds,
    p.child('activeDeadlineSeconds')
  );
  errs.push(...deadlineErrs);
  if (deadlineErrs.length) return errs;
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, p.child('tolerations')));
  errs.push(
    ...validateOnlyDeletedSchedulingGates(spec.schedulingGates, oldSpec.schedulingGates, p.child('schedulingGates'))
  );
  if (jsonEqual(spec, oldSpec)) return errs;

  // Put the old values back into what may change; anything still different may not change.
  const munged = clone(spec);
  for (const list of ['containers', 'initContainers'] as const) {
    const oldList = objects(oldSpec[list]);
    objects(munged[list]).forEach((c, i) => {
      c.image = oldList[i]?.image;
    });
  }
  for (const f of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates', 'ephemeralContainers']) {
    if (oldSpec[f] === undefined) delete munged[f];
    else munged[f] = oldSpec[f];
  }
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (!jsonEqual(munged, oldSpec)) {
    const lines: string[] = [];
    diff(oldSpec, munged, 'spec', lines);
    const detail = `pod updates may not change fields other than ${updatablePodSpecFields.join(',')}\n${lines.join('\n')}`;
    errs.push(p.forbidden(detail));
  }
  return errs;
}
