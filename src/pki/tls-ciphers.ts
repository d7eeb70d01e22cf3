// `--tls-cipher-suites` (API server and kubelet) (k8s component-base cli/flag ciphersuites_flag.go): Go's suite names, mapped to OpenSSL's.
// Only the AEAD suites with forward secrecy that the CIS benchmark (1.2.29) accepts are offered, and they are
// the default; as in Go, the TLS 1.3 suites are always on and not configurable.
const tls13Suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

const tls12Suites: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  // Go's older names for the same two suites.
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/** Every suite on by default (CIS 1.2.29's list, which is also everything hubspoke accepts). */
export const defaultTLSCipherSuites = [...tls13Suites, ...Object.keys(tls12Suites).slice(0, 6)];

export function validateTLSCipherSuites(names: readonly string[]): string[] {
  return names
    .filter((n) => !tls13Suites.includes(n) && !(n in tls12Suites))
    .map(
      (n) =>
        `--tls-cipher-suites: cipher suite ${n} not supported or doesn't exist (hubspoke offers only ${defaultTLSCipherSuites.join(', ')})`
    );
}

/** The OpenSSL cipher string for Node's `ciphers` option. */
export function opensslCiphers(names: readonly string[]): string {
  const tls12 = names.flatMap((n) => (n in tls12Suites ? [tls12Suites[n]!] : []));
  return [...new Set([...tls13Suites, ...tls12])].join(':');
}
