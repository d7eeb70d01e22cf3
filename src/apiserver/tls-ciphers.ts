// The cipher-suite flag lives in src/pki, shared with the kubelet's server.
export { defaultTLSCipherSuites, opensslCiphers, validateTLSCipherSuites } from '../pki/tls-ciphers.js';
