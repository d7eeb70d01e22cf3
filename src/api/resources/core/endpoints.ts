// core/v1 endpoints (k8s pkg/registry/core/endpoint).
import { path, type FieldError, type FieldPath } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { isValidIP, validateNonSpecialIP } from '../../validation/ip.js';
import { objects, str, type JsonObject } from '../../validation/json.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { validateDNS1123Label, validatePortNum, validateProtocol } from './ports.js';

function defaultEndpoints(ep: KubeObject): void {
  for (const subset of objects(ep.subsets)) for (const port of objects(subset.ports)) port.protocol ??= 'TCP';
}

function validateAddress(a: JsonObject, p: FieldPath): FieldError[] {
  const ip = str(a.ip);
  const errs = isValidIP(p.child('ip'), ip);
  if (a.hostname) errs.push(...validateDNS1123Label(str(a.hostname), p.child('hostname')));
  if (typeof a.nodeName === 'string') {
    errs.push(...isDNS1123Subdomain(a.nodeName).map((msg) => p.child('nodeName').invalid(a.nodeName, msg)));
  }
  // Loopback is allowed: a single-host hubspoke advertises 127.0.0.1 for the `kubernetes` service.
  if (errs.length === 0) errs.push(...validateNonSpecialIP(p.child('ip'), ip, true));
  return errs;
}

function validateEndpoints(ep: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objects(ep.subsets).forEach((ss, i) => {
    const sp = path('subsets').index(i);
    const addresses = objects(ss.addresses);
    const notReady = objects(ss.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) {
      errs.push(sp.required('must specify `addresses` or `notReadyAddresses`'));
    }
    addresses.forEach((a, j) => errs.push(...validateAddress(a, sp.child('addresses').index(j))));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, sp.child('notReadyAddresses').index(j))));
    const ports = objects(ss.ports);
    ports.forEach((port, j) => {
      const pp = sp.child('ports').index(j);
      const name = str(port.name);
      if (ports.length > 1 && !name) errs.push(pp.child('name').required());
      else if (name) errs.push(...validateDNS1123Label(name, pp.child('name')));
      errs.push(...validatePortNum(port.port, pp.child('port')));
      errs.push(...validateProtocol(port.protocol, pp.child('protocol')));
    });
  });
  return errs;
}

export const endpoints: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'endpoints',
  singular: 'endpoints',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  namespaced: true,
  shortNames: ['ep'],
  strategy: { defaults: defaultEndpoints, validate: validateEndpoints },
};
