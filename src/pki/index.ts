// The PKI library's public surface: certificate authority, leaf certificates, CSRs, the CA pin, and the control
// plane's certificate files. Import from here; `./x509.js` is the only module that may load @peculiar/x509.
export { apiServerSANs, firstServiceIP, type APIServerSANsOptions, type SubjectAltNames } from './apiserver-sans.js';
export { caCertHash } from './ca-hash.js';
export { CERTIFICATE_BACKDATE_MS, createCA, type CertKeyPair, type CreateCAOptions } from './ca.js';
export {
  issueCertificate,
  keyMatchesCertificate,
  parseCertificate,
  verifyIssuedBy,
  type CertificateInfo,
  type CertificateUsage,
  type IssueCertificateOptions,
} from './certificates.js';
export { createCSR, parseCSR, signCSR, type CreateCSROptions, type CSRInfo, type SignCSROptions } from './csr.js';
export {
  ensureClusterPKI,
  writeCertFile,
  writeKeyFile,
  type ClusterPKI,
  type ClusterPKIOptions,
  type PKIFiles,
} from './files.js';
export { canonicalIP, parseCIDR, type CIDR } from './ip.js';
export { DEFAULT_KEY_ALGORITHM, generatePrivateKey, type KeyAlgorithm } from './keys.js';
export { kubeconfig, type KubeconfigOptions } from './kubeconfig.js';
export {
  parseSSHPublicKey,
  sshFingerprint,
  sshHostKeyAnnotation,
  sshPortAnnotation,
  type SSHPublicKey,
} from './ssh.js';
export { defaultTLSCipherSuites, opensslCiphers, validateTLSCipherSuites } from './tls-ciphers.js';
