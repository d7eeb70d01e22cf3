import { isIP } from 'node:net';

/** An IP address as a number, so that masks and offsets are plain arithmetic. */
export interface IPAddress {
  family: 4 | 6;
  value: bigint;
}

/** A CIDR block with its host bits cleared. */
export interface CIDR {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

function parseIPv4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseIPv6(text: string): bigint {
  // An embedded IPv4 tail ("::ffff:10.0.0.1") stands for the last two 16-bit groups.
  const tail = text.lastIndexOf(':');
  let head = text;
  let low: string[] = [];
  if (text.includes('.', tail)) {
    const v4 = parseIPv4(text.slice(tail + 1));
    head = text.slice(0, tail + 1) + '0:0';
    low = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right == null || right === '' ? [] : right.split(':');
  const zeros = right == null ? [] : new Array<string>(8 - leftGroups.length - rightGroups.length).fill('0');
  const groups = [...leftGroups, ...zeros, ...rightGroups];
  if (low.length > 0) groups.splice(6, 2, ...low);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * Parses an IPv4 or IPv6 address (zones such as `%eth0` are refused: they mean nothing off the host).
 *
 * @returns the address, or `undefined` when the text is not an IP address.
 */
export function parseIP(text: string): IPAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { family, value: parseIPv4(text) };
  if (family === 6 && !text.includes('%')) return { family, value: parseIPv6(text) };
  return undefined;
}

/** Formats an address canonically: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIP(ip: IPAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (ip.value >> BigInt(112 - 16 * i)) & 0xffffn);
  let best = { start: -1, length: 1 }; // RFC 5952 §4.2.2: a single zero group is never shortened
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/**
 * Returns the canonical text of an address for a certificate. IPv4-mapped IPv6 addresses become IPv4, as Go's
 * crypto/x509 encodes them, so that the SAN matches what Go clients compare against.
 *
 * @throws Error naming the value when it is not an IP address.
 */
export function canonicalIP(text: string): string {
  const ip = parseIP(text);
  if (ip == null) throw new Error(`invalid IP address "${text}"`);
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return formatIP({ family: 4, value: ip.value & 0xffffffffn });
  return formatIP(ip);
}

/**
 * Parses a CIDR block such as `10.96.0.0/12` or `fd00::/108`. Host bits may be set; they are cleared, as Go's
 * `net.ParseCIDR` does.
 *
 * @param what - what the value is, for the error message (`service cluster IP range`).
 * @throws Error naming the value and what is wrong with it.
 */
export function parseCIDR(text: string, what = 'CIDR'): CIDR {
  const fail = (why: string): never => {
    throw new Error(`invalid ${what} "${text}": ${why}`);
  };
  const parts = text.split('/');
  if (parts.length !== 2) fail('want an address and a prefix length, as in 10.96.0.0/12');
  const [addr = '', prefixText = ''] = parts;
  const ip = parseIP(addr) ?? fail(`"${addr}" is not an IP address`);
  const bits = bitsOf(ip.family);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) fail(`prefix length must be an integer from 0 to ${bits}`);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family: ip.family, network: ip.value & ~hostMask, prefix };
}
