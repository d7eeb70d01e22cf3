// ObjectMeta validation on create and update (apimachinery pkg/api/validation/objectmeta.go): the rules every
// resource shares, run by the registry before the resource's own strategy.
import { path, type FieldError, type FieldPath } from '../field.js';
import { jsonEqual } from '../meta.js';
import type { KubeObject, ResourceStrategy } from '../resource.js';
import { arr, obj, str, stringMap } from './json.js';
import {
  isDNS1123Label,
  isQualifiedName,
  isValidLabelValue,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  type NameValidator,
} from './names.js';

export const fieldImmutableErrorMsg = 'field is immutable';
export const totalAnnotationSizeLimitB = 256 * 1024;

export function validateImmutableField(newVal: unknown, oldVal: unknown, p: FieldPath): FieldError[] {
  return jsonEqual(newVal, oldVal) ? [] : [p.invalid(newVal, fieldImmutableErrorMsg)];
}

export function validateLabelName(name: string, p: FieldPath): FieldError[] {
  return isQualifiedName(name).map((msg) => p.invalid(name, msg));
}

/** Labels and selectors: qualified-name keys, label values. Errors sit on the map's path, as upstream's. */
export function validateLabels(labels: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(stringMap(labels))) {
    errs.push(...validateLabelName(k, p));
    errs.push(...isValidLabelValue(v).map((msg) => p.invalid(v, msg)));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(stringMap(annotations))) {
    // Annotation keys are qualified names except that case does not matter.
    errs.push(...isQualifiedName(k.toLowerCase()).map((msg) => p.invalid(k, msg)));
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > totalAnnotationSizeLimitB) errs.push(p.tooLong('', totalAnnotationSizeLimitB));
  return errs;
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function validateOwnerReferences(refs: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  // Upstream reports owner reference errors without an index.
  for (const raw of arr(refs)) {
    const ref = obj(raw);
    const apiVersion = str(ref.apiVersion);
    const kind = str(ref.kind);
    const { group, version } = splitAPIVersion(apiVersion);
    if (!version) errs.push(p.child('apiVersion').invalid(apiVersion, 'version must not be empty'));
    if (!kind) errs.push(p.child('kind').invalid(kind, 'must not be empty'));
    if (!str(ref.name)) errs.push(p.child('name').invalid(str(ref.name), 'must not be empty'));
    if (!str(ref.uid)) errs.push(p.child('uid').invalid(str(ref.uid), 'must not be empty'));
    if (group === '' && version === 'v1' && kind === 'Event') {
      errs.push(p.invalid(ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${kind}/${str(ref.name)}`;
      if (firstController) {
        const detail = `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`;
        errs.push(p.invalid(refs, detail));
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

export function validateFinalizers(finalizers: unknown, p: FieldPath): FieldError[] {
  const list = arr(finalizers).map(str);
  const errs = list.flatMap((f) => isQualifiedName(f).map((msg) => p.invalid(f, msg)));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(p.invalid(list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/**
 * Where an object lives and how its name is checked. A ResourceDef fits: the name rule comes from
 * `nameValidator`, else the strategy's `nameValidator`, `namePathSegmentOnly` or `nameIsLabel`, else DNS subdomain.
 */
export interface MetaScope {
  namespaced: boolean;
  nameValidator?: NameValidator;
  strategy?: Pick<ResourceStrategy, 'nameIsLabel' | 'namePathSegmentOnly'> & { nameValidator?: NameValidator };
}

export function nameValidatorOf(scope: MetaScope): NameValidator {
  const s = scope.strategy;
  if (scope.nameValidator) return scope.nameValidator;
  if (s?.nameValidator) return s.nameValidator;
  if (s?.namePathSegmentOnly) return nameIsPathSegment;
  if (s?.nameIsLabel) return nameIsDNSLabel;
  return nameIsDNSSubdomain;
}

function commonMetaErrors(meta: Record<string, unknown>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabels(meta.labels, p.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, p.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, p.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, p.child('finalizers')));
  return errs;
}

/**
 * Upstream's ValidateObjectMeta. Call it after the name was generated from `generateName` (see `generateName`):
 * both are checked, as upstream's core types do.
 */
export function validateObjectMeta(o: KubeObject, scope: MetaScope): FieldError[] {
  const p = path('metadata');
  const nameValidator = nameValidatorOf(scope);
  const meta = obj(o.metadata);
  const errs: FieldError[] = [];
  const generateName = str(meta.generateName);
  const name = str(meta.name);
  const namespace = str(meta.namespace);
  if (generateName) {
    errs.push(...nameValidator(generateName, true).map((msg) => p.child('generateName').invalid(generateName, msg)));
  }
  if (!name) errs.push(p.child('name').required('name or generateName is required'));
  else errs.push(...nameValidator(name, false).map((msg) => p.child('name').invalid(name, msg)));
  if (scope.namespaced) {
    if (!namespace) errs.push(p.child('namespace').required());
    else errs.push(...isDNS1123Label(namespace).map((msg) => p.child('namespace').invalid(namespace, msg)));
  } else if (namespace) {
    errs.push(p.child('namespace').forbidden('not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    errs.push(p.child('generation').invalid(meta.generation, 'must be greater than or equal to 0'));
  }
  return [...errs, ...commonMetaErrors(meta, p)];
}

/** Go's `%#v` of a []string, as upstream's finalizer message prints it. */
const goStrings = (xs: string[]): string => `[]string{${xs.map((x) => JSON.stringify(x)).join(', ')}}`;

/**
 * Upstream's ValidateObjectMetaUpdate. Run `fillObjectMetaForUpdate` first, as upstream's store does, so
 * fields a client may omit (uid, creationTimestamp, resourceVersion on unconditional updates) are not reported.
 * The scope is accepted so callers can pass the ResourceDef as on create; no update rule depends on it.
 */
export function validateObjectMetaUpdate(newObj: KubeObject, oldObj: KubeObject, _scope?: MetaScope): FieldError[] {
  const p = path('metadata');
  const n = obj(newObj.metadata);
  const o = obj(oldObj.metadata);
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const old = new Set(arr(o.finalizers).map(str));
    const extra = [...new Set(arr(n.finalizers).map(str))].filter((f) => !old.has(f)).sort();
    if (extra.length > 0) {
      const detail = `no new finalizers can be added if the object is being deleted, found new finalizers ${goStrings(extra)}`;
      errs.push(p.child('finalizers').forbidden(detail));
    }
  }
  if (!str(n.resourceVersion)) errs.push(p.child('resourceVersion').invalid('', 'must be specified for an update'));
  if (typeof n.generation === 'number' && typeof o.generation === 'number' && n.generation < o.generation) {
    errs.push(p.child('generation').invalid(n.generation, 'must not be decremented'));
  }
  for (const f of [
    'name',
    'namespace',
    'uid',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ]) {
    errs.push(...validateImmutableField(n[f], o[f], p.child(f)));
  }
  return [...errs, ...commonMetaErrors(n, p)];
}

/**
 * The system fields upstream's rest.BeforeUpdate carries over from the stored object before validation: uid
 * when omitted, creationTimestamp, deletion timestamp and grace period, generation (the strategy bumps it), and
 * resourceVersion for an unconditional update (a PUT without one).
 */
export function fillObjectMetaForUpdate(newObj: KubeObject, oldObj: KubeObject): void {
  const n = (newObj.metadata ??= {});
  const o = obj(oldObj.metadata);
  if (!n.uid && o.uid) n.uid = str(o.uid);
  if (o.creationTimestamp) n.creationTimestamp = str(o.creationTimestamp);
  if (o.deletionTimestamp) n.deletionTimestamp = str(o.deletionTimestamp);
  if (typeof o.deletionGracePeriodSeconds === 'number' && n.deletionGracePeriodSeconds === undefined) {
    n.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  }
  if (typeof o.generation === 'number') n.generation = o.generation;
  if (!n.resourceVersion && o.resourceVersion) n.resourceVersion = str(o.resourceVersion);
}
