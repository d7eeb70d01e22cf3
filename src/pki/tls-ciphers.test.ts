import assert from 'node:assert/strict';
import { getCiphers } from 'node:tls';
import { describe, test } from 'node:test';
import { defaultTLSCipherSuites, opensslCiphers, validateTLSCipherSuites } from './tls-ciphers.js';

describe('--tls-cipher-suites', () => {
  test("the default is CIS 1.2.29's strong list and maps to suites this OpenSSL has", () => {
    assert.equal(defaultTLSCipherSuites.length, 9);
    assert.deepEqual(validateTLSCipherSuites(defaultTLSCipherSuites), []);
    const known = new Set(getCiphers().map((c) => c.toUpperCase()));
    for (const c of opensslCiphers(defaultTLSCipherSuites)
      .split(':')
      .filter((c) => !c.startsWith('TLS_')))
      assert.ok(known.has(c), c);
  });
  test('weak or unknown suites are refused', () => {
    assert.match(validateTLSCipherSuites(['TLS_RSA_WITH_AES_128_CBC_SHA'])[0]!, /not supported or doesn't exist/);
  });
  test('TLS 1.3 suites stay on whatever is chosen', () => {
    assert.equal(
      opensslCiphers(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']),
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256'
    );
  });
});
