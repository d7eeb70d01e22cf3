// core/v1 secrets (k8s pkg/registry/core/secret).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { child, isObject, obj, str } from '../../validation/json.js';
import { validateImmutableField } from '../../validation/object-meta.js';
import { maxDataSize, validateImmutableData, validateKeys } from './config-data.js';

const base64Regexp = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function defaultSecret(secret: KubeObject): void {
  secret.type ??= 'Opaque';
  // stringData is write-only: upstream's conversion merges it into data (stringData wins) and never stores it.
  if (isObject(secret.stringData)) {
    const data = child(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData))
      if (typeof v === 'string') data[k] = Buffer.from(v).toString('base64');
    delete secret.stringData;
  }
}

// Type-specific keys (upstream's ValidateSecret switch).
const requiredKeys: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

function validateSecret(secret: KubeObject): FieldError[] {
  const dataPath = path('data');
  const data = obj(secret.data);
  const errs = validateKeys(data, dataPath);
  let total = 0;
  for (const [key, v] of Object.entries(data)) {
    // In JSON, secret values are base64; upstream's decoder rejects anything else.
    if (typeof v !== 'string' || !base64Regexp.test(v)) {
      errs.push(dataPath.key(key).invalid('<secret contents redacted>', 'must be a base64-encoded string'));
      continue;
    }
    total += Buffer.from(v, 'base64').length;
  }
  if (total > maxDataSize) errs.push(dataPath.tooLong('', maxDataSize));
  const type = str(secret.type);
  if (type === 'kubernetes.io/service-account-token') {
    const annotation = 'kubernetes.io/service-account.name';
    if (!secret.metadata?.annotations?.[annotation])
      errs.push(path('metadata').child('annotations').key(annotation).required());
  } else if (type === 'kubernetes.io/basic-auth') {
    if (!('username' in data) && !('password' in data)) {
      errs.push(dataPath.key('username').required(), dataPath.key('password').required());
    }
  } else {
    for (const key of requiredKeys[type] ?? []) if (!(key in data)) errs.push(dataPath.key(key).required());
  }
  return errs;
}

export const secrets: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  strategy: {
    defaults: defaultSecret,
    validate: validateSecret,
    validateUpdate: (secret, old) => [
      ...validateImmutableField(secret.type, old.type, path('type')),
      ...validateImmutableData(secret, old, ['data']),
      ...validateSecret(secret),
    ],
    selectableFields: (secret) => ({ type: str(secret.type) }),
  },
};
