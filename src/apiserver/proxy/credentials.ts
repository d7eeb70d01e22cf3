// The API server's identity toward kubelets, as kubeadm's `apiserver-kubelet-client` certificate: CN
// `kube-apiserver-kubelet-client`, clientAuth, issued from the cluster CA and bound to system:kubelet-api-admin by
// the bootstrap policy's `kube-apiserver-kubelet-client` ClusterRoleBinding. --kubelet-client-certificate/-key
// replace it. The files are kept in the PKI directory and reissued when missing or within 30 days of expiry.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  issueCertificate,
  keyMatchesCertificate,
  parseCertificate,
  verifyIssuedBy,
  writeCertFile,
  writeKeyFile,
  type CertKeyPair,
} from '../../pki/index.js';

export const kubeletClientUser = 'kube-apiserver-kubelet-client';
const renewBeforeMs = 30 * 24 * 3600 * 1000;
const validityMs = 365 * 24 * 3600 * 1000;

async function readPair(certPath: string, keyPath: string): Promise<CertKeyPair | undefined> {
  try {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } catch {
    return undefined;
  }
}

export async function ensureKubeletClientCertificate(pkiDir: string, ca: CertKeyPair): Promise<CertKeyPair> {
  const certPath = join(pkiDir, 'apiserver-kubelet-client.crt');
  const keyPath = join(pkiDir, 'apiserver-kubelet-client.key');
  const existing = await readPair(certPath, keyPath);
  if (existing) {
    try {
      const info = parseCertificate(existing.cert);
      if (
        info.commonName === kubeletClientUser &&
        keyMatchesCertificate(existing.key, existing.cert) &&
        verifyIssuedBy(existing.cert, ca.cert) &&
        info.notAfter.getTime() - Date.now() > renewBeforeMs
      )
        return existing;
    } catch {
      // unreadable: reissued below
    }
  }
  const pair = await issueCertificate({ ca, commonName: kubeletClientUser, usages: ['client'], validityMs });
  await writeKeyFile(keyPath, pair.key);
  await writeCertFile(certPath, pair.cert);
  return pair;
}
