// core/v1 serviceaccounts (k8s pkg/registry/core/serviceaccount). Tokens are minted by the `token` subresource.
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { objects, str } from '../../validation/json.js';
import { isDNS1123Subdomain } from '../../validation/names.js';

// Referenced secrets must at least be nameable.
function validateServiceAccount(sa: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const list of ['secrets', 'imagePullSecrets']) {
    objects(sa[list]).forEach((ref, i) => {
      const name = str(ref.name);
      const p = path(list).index(i).child('name');
      if (name) errs.push(...isDNS1123Subdomain(name).map((msg) => p.invalid(name, msg)));
    });
  }
  return errs;
}

export const serviceaccounts: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  namespaced: true,
  shortNames: ['sa'],
  subresources: ['token'],
  strategy: { validate: validateServiceAccount },
};
