// core/v1 configmaps (k8s pkg/registry/core/configmap).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { obj } from '../../validation/json.js';
import { maxDataSize, validateImmutableData, validateKeys } from './config-data.js';

function validateConfigMap(cm: KubeObject): FieldError[] {
  const data = obj(cm.data);
  const binaryData = obj(cm.binaryData);
  const errs = validateKeys(data, path('data'));
  for (const key of Object.keys(data)) {
    if (key in binaryData) errs.push(path('data').key(key).invalid(key, 'duplicate of key present in binaryData'));
  }
  errs.push(...validateKeys(binaryData, path('binaryData')));
  let total = 0;
  for (const v of Object.values(data)) total += typeof v === 'string' ? Buffer.byteLength(v) : 0;
  // binaryData travels as base64; the limit counts the decoded bytes.
  for (const v of Object.values(binaryData)) total += typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
  // Upstream reports the size on the whole object, with an empty path.
  if (total > maxDataSize) errs.push(path('').tooLong('', maxDataSize));
  return errs;
}

export const configmaps: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  namespaced: true,
  shortNames: ['cm'],
  strategy: {
    validate: validateConfigMap,
    validateUpdate: (cm, old) => [...validateImmutableData(cm, old, ['data', 'binaryData']), ...validateConfigMap(cm)],
  },
};
