// Port rules shared by pods, services, endpoints and endpoint slices (core validation's port helpers).
import type { FieldError, FieldPath } from '../../field.js';
import { isDNS1123Label, isValidPortName, isValidPortNum } from '../../validation/names.js';

/** Sorted, as upstream's `sets.List(supportedPortProtocols)` prints them. */
export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];

export function validateProtocol(protocol: unknown, p: FieldPath): FieldError[] {
  if (protocol === undefined || protocol === '') return [p.required()];
  return supportedPortProtocols.includes(protocol as string) ? [] : [p.notSupported(protocol, supportedPortProtocols)];
}

export function validatePortNum(port: unknown, p: FieldPath): FieldError[] {
  return isValidPortNum(typeof port === 'number' ? port : NaN).map((msg) => p.invalid(port, msg));
}

/** An IntOrString port: a number in range or an IANA service name (`targetPort`, probe ports). */
export function validatePortNumOrName(port: unknown, p: FieldPath): FieldError[] {
  if (typeof port === 'string') return isValidPortName(port).map((msg) => p.invalid(port, msg));
  return validatePortNum(port, p);
}

export function validateDNS1123Label(value: string, p: FieldPath): FieldError[] {
  return isDNS1123Label(value).map((msg) => p.invalid(value, msg));
}
