import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIP, formatIP, parseCIDR, parseIP } from './ip.js';

describe('ip', () => {
  it('ip - canonical text of addresses', () => {
    const cases: [string, string][] = [
      ['10.0.0.1', '10.0.0.1'],
      ['::1', '::1'],
      ['::', '::'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['fe80:0:0:1:0:0:0:0', 'fe80:0:0:1::'], // the longer run wins
      ['::ffff:10.1.2.3', '10.1.2.3'], // IPv4-mapped becomes IPv4, as Go's x509 encodes it
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalIP(input), want, input);
  });

  it('ip - rejects what is not an address', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256', 'fe80::1%eth0', 'localhost', '1::2::3']) {
      assert.equal(parseIP(bad), undefined, bad);
      assert.throws(() => canonicalIP(bad), new RegExp(`invalid IP address "${bad.replace(/\./g, '\\.')}"`));
    }
  });

  it('ip - parseCIDR clears host bits', () => {
    const cases: [string, string, number][] = [
      ['10.96.0.0/12', '10.96.0.0', 12],
      ['10.96.5.7/12', '10.96.0.0', 12],
      ['fd00:10:96::ff/108', 'fd00:10:96::', 108],
      ['0.0.0.0/0', '0.0.0.0', 0],
    ];
    for (const [input, network, prefix] of cases) {
      const cidr = parseCIDR(input);
      assert.equal(formatIP({ family: cidr.family, value: cidr.network }), network, input);
      assert.equal(cidr.prefix, prefix, input);
    }
  });

  it('ip - parseCIDR errors name the value and the problem', () => {
    const cases: [string, RegExp][] = [
      ['10.96.0.0', /invalid CIDR "10\.96\.0\.0": want an address and a prefix length/],
      ['10.96.0.0/33', /invalid CIDR "10\.96\.0\.0\/33": prefix length must be an integer from 0 to 32/],
      ['fd00::/129', /from 0 to 128/],
      ['10.96.0.0/-1', /from 0 to 32/],
      ['10.96.0.0/1.5', /from 0 to 32/],
      ['10.96.0.0/', /from 0 to 32/],
      ['banana/12', /"banana" is not an IP address/],
      ['10.0.0.0/8/8', /want an address and a prefix length/],
    ];
    for (const [input, error] of cases) assert.throws(() => parseCIDR(input), error, input);
  });
});
