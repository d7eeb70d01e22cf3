import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiServerSANs, firstServiceIP } from './apiserver-sans.js';

describe('apiserver SANs', () => {
  it('firstServiceIP - network address + 1', () => {
    const cases: [string, string][] = [
      ['10.96.0.0/12', '10.96.0.1'],
      ['10.96.0.0/24', '10.96.0.1'],
      ['10.43.7.9/16', '10.43.0.1'], // host bits set: the network is still 10.43.0.0
      ['192.168.1.254/31', '192.168.1.255'],
      ['fd00:10:96::/108', 'fd00:10:96::1'],
      ['2001:db8:ffff::/112', '2001:db8:ffff::1'],
      ['fd00::ffff:0/120', 'fd00::ffff:1'],
    ];
    for (const [cidr, want] of cases) assert.equal(firstServiceIP(cidr), want, cidr);
  });

  it('firstServiceIP - bad ranges are named in the error', () => {
    const cases: [string, RegExp][] = [
      ['10.96.0.0', /invalid service cluster IP range "10\.96\.0\.0"/],
      ['10.96.0.0/40', /invalid service cluster IP range "10\.96\.0\.0\/40": prefix length/],
      ['10.96.0.300/12', /invalid service cluster IP range "10\.96\.0\.300\/12": "10\.96\.0\.300" is not an IP/],
      ['10.96.0.1/32', /invalid service cluster IP range "10\.96\.0\.1\/32": the range holds no address/],
      ['fd00::1/128', /the range holds no address/],
      ['', /invalid service cluster IP range ""/],
    ];
    for (const [cidr, error] of cases) assert.throws(() => firstServiceIP(cidr), error, cidr);
  });

  it('apiServerSANs - loopback, host, advertise address, kubernetes service names and VIP', () => {
    const sans = apiServerSANs({
      hostname: 'Node-1',
      advertiseAddress: '192.168.5.10',
      serviceClusterIPRange: '10.96.0.0/12',
    });
    assert.deepEqual(sans, {
      dnsNames: [
        'localhost',
        'node-1',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', '::1', '192.168.5.10', '10.96.0.1'],
    });
  });

  it('apiServerSANs - IPv6 primary range, IP host name, duplicates removed', () => {
    const sans = apiServerSANs({
      hostname: '127.0.0.1',
      advertiseAddress: '::1',
      serviceClusterIPRange: 'fd00:10:96::/108, 10.96.0.0/12',
    });
    assert.deepEqual(sans.ipAddresses, ['127.0.0.1', '::1', 'fd00:10:96::1']);
    assert.ok(!sans.dnsNames.includes('127.0.0.1'));
  });

  it('apiServerSANs - invalid inputs', () => {
    const base = { hostname: 'h', advertiseAddress: '10.0.0.1', serviceClusterIPRange: '10.96.0.0/12' };
    const cases: [Partial<typeof base>, RegExp][] = [
      [{ advertiseAddress: 'node-1' }, /invalid advertise address "node-1"/],
      [{ serviceClusterIPRange: '10.96.0.0/12,fd00::/200' }, /invalid service cluster IP range "fd00::\/200"/],
      [{ serviceClusterIPRange: '10.96.0.0/33' }, /invalid service cluster IP range "10\.96\.0\.0\/33"/],
      [{ hostname: '' }, /invalid hostname ""/],
    ];
    for (const [override, error] of cases) assert.throws(() => apiServerSANs({ ...base, ...override }), error);
  });
});
