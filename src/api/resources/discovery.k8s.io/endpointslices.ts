// discovery.k8s.io/v1 endpointslices (k8s pkg/apis/discovery/validation).
import { path, type FieldError, type FieldPath } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { isValidIPv4Address, isValidIPv6Address, validateNonSpecialIP } from '../../validation/ip.js';
import { arr, objects, str } from '../../validation/json.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { validateImmutableField, validateLabelName } from '../../validation/object-meta.js';
import { supportedPortProtocols, validateDNS1123Label, validatePortNum } from '../core/ports.js';

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
const maxEndpoints = 1000;
const maxAddresses = 100;

function defaultEndpointSlice(slice: KubeObject): void {
  for (const port of objects(slice.ports)) {
    port.name ??= '';
    port.protocol ??= 'TCP';
  }
}

function validateFQDN(p: FieldPath, value: string): FieldError[] {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (!name) return [p.required()];
  const msgs = isDNS1123Subdomain(name);
  if (msgs.length) return [p.invalid(name, msgs.join(','))];
  if (name.split('.').length < 2)
    return [p.invalid(name, 'should be a domain with at least two segments separated by dots')];
  return [];
}

function validateAddress(type: string, address: string, p: FieldPath): FieldError[] {
  // Loopback is allowed: a single-host hubspoke advertises 127.0.0.1 for the `kubernetes` service.
  if (type === 'IPv4') {
    const errs = isValidIPv4Address(p, address);
    return errs.length ? errs : validateNonSpecialIP(p, address, true);
  }
  if (type === 'IPv6') {
    const errs = isValidIPv6Address(p, address);
    return errs.length ? errs : validateNonSpecialIP(p, address, true);
  }
  return type === 'FQDN' ? validateFQDN(p, address) : [];
}

function validateEndpointSlice(slice: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(slice.addressType);
  if (!type) errs.push(path('addressType').required());
  else if (!addressTypes.includes(type)) errs.push(path('addressType').notSupported(type, addressTypes));
  const endpoints = objects(slice.endpoints);
  if (endpoints.length > maxEndpoints)
    errs.push(path('endpoints').invalid(endpoints.length, `must have at most ${maxEndpoints} items`));
  endpoints.forEach((ep, i) => {
    const ip = path('endpoints').index(i);
    const addresses = arr(ep.addresses);
    if (addresses.length === 0) errs.push(ip.child('addresses').required('must contain at least 1 address'));
    else if (addresses.length > maxAddresses)
      errs.push(ip.child('addresses').invalid(addresses.length, `must have at most ${maxAddresses} items`));
    addresses.forEach((a, j) => errs.push(...validateAddress(type, str(a), ip.child('addresses').index(j))));
    if (typeof ep.nodeName === 'string') {
      errs.push(...isDNS1123Subdomain(ep.nodeName).map((msg) => ip.child('nodeName').invalid(ep.nodeName, msg)));
    }
    if (typeof ep.hostname === 'string') errs.push(...validateDNS1123Label(ep.hostname, ip.child('hostname')));
  });
  const names = new Set<string>();
  objects(slice.ports).forEach((port, i) => {
    const pp = path('ports').index(i);
    const name = str(port.name);
    if (name) errs.push(...validateDNS1123Label(name, pp.child('name')));
    if (names.has(name)) errs.push(pp.child('name').duplicate(name));
    names.add(name);
    if (port.protocol == null) errs.push(pp.child('protocol').required());
    else if (!supportedPortProtocols.includes(str(port.protocol)))
      errs.push(pp.child('protocol').notSupported(port.protocol, supportedPortProtocols));
    if (port.port != null) errs.push(...validatePortNum(port.port, pp.child('port')));
    if (typeof port.appProtocol === 'string')
      errs.push(...validateLabelName(port.appProtocol, pp.child('appProtocol')));
  });
  return errs;
}

export const endpointslices: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  namespaced: true,
  strategy: {
    defaults: defaultEndpointSlice,
    validate: validateEndpointSlice,
    validateUpdate: (slice, old) => [
      ...validateEndpointSlice(slice),
      ...validateImmutableField(slice.addressType, old.addressType, path('addressType')),
    ],
  },
};
