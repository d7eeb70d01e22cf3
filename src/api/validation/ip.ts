// IP address checks with upstream's messages (apimachinery pkg/util/validation/ip.go, core ValidateNonSpecialIP).
import { BlockList, isIP } from 'node:net';
import type { FieldError, FieldPath } from '../field.js';

export function isValidIP(p: FieldPath, value: string): FieldError[] {
  return isIP(value) ? [] : [p.invalid(value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function isValidIPv4Address(p: FieldPath, value: string): FieldError[] {
  return isIP(value) === 4 ? [] : [p.invalid(value, 'must be a valid IPv4 address')];
}

export function isValidIPv6Address(p: FieldPath, value: string): FieldError[] {
  return isIP(value) === 6 ? [] : [p.invalid(value, 'must be a valid IPv6 address')];
}

export function isValidCIDR(p: FieldPath, value: string): FieldError[] {
  const slash = value.indexOf('/');
  const bits = Number(value.slice(slash + 1));
  const family = isIP(value.slice(0, slash));
  const ok = slash > 0 && family !== 0 && /^\d+$/.test(value.slice(slash + 1)) && bits <= (family === 4 ? 32 : 128);
  return ok ? [] : [p.invalid(value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

function blockList(v4: [string, number][], v6: [string, number][]): BlockList {
  const b = new BlockList();
  for (const [net, bits] of v4) b.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of v6) b.addSubnet(net, bits, 'ipv6');
  return b;
}

const unspecified = blockList([['0.0.0.0', 32]], [['::', 128]]);
const loopback = blockList([['127.0.0.0', 8]], [['::1', 128]]);
const linkLocal = blockList([['169.254.0.0', 16]], [['fe80::', 10]]);
const linkLocalMulticast = blockList([['224.0.0.0', 24]], [['ff02::', 16]]);

/**
 * Upstream's ValidateNonSpecialIP for addresses that other hosts must reach (endpoints). `allowLoopback` exists
 * because a single-host hubspoke advertises 127.0.0.1 for the `kubernetes` service; upstream forbids it.
 */
export function validateNonSpecialIP(p: FieldPath, value: string, allowLoopback: boolean): FieldError[] {
  const family = isIP(value) === 6 ? 'ipv6' : 'ipv4';
  if (unspecified.check(value, family)) return [p.invalid(value, 'may not be unspecified (0.0.0.0)')];
  if (!allowLoopback && loopback.check(value, family)) {
    return [p.invalid(value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  }
  if (linkLocal.check(value, family))
    return [p.invalid(value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (linkLocalMulticast.check(value, family)) {
    return [p.invalid(value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  }
  return [];
}
