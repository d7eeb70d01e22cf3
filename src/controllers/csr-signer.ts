// The CSR signer (upstream pkg/controller/certificates/signer, "csrsigning") for kubernetes.io/kube-apiserver-
// client-kubelet, kubernetes.io/kubelet-serving and kubernetes.io/kube-apiserver-client; legacy-unknown is not
// served by certificates.k8s.io/v1, so it is not signed here.
//
// Only Approved, not Failed, not yet issued CSRs of those signers are acted on. The request is checked again:
// a PEM that does not parse, a bad self-signature, a weak key, or a subject or usages its signer does not allow
// add a `Failed` condition (reason SignerValidationFailure, as upstream) and no certificate is ever issued for
// them. Otherwise the certificate (subject and DNS/IP SANs copied, other extensions dropped) goes to
// status.certificate through the `/status` subresource.
import { isConflict, isNotFound } from '../api/errors.js';
import { rfc3339 } from '../api/meta.js';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { CERTIFICATE_BACKDATE_MS, signCSR, type CertificateUsage, type CertKeyPair } from '../pki/index.js';
import {
  hasCondition,
  keyStrengthError,
  parseRequest,
  signerRules,
  type CertificateSigningRequest,
} from './csr-rules.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

export interface SignerConfig {
  /** `--cluster-signing-cert-file` / `--cluster-signing-key-file`: the cluster CA unless set. */
  ca: CertKeyPair;
  /** `--cluster-signing-duration`: the longest certificate issued. @default 8760h */
  maxDurationMs: number;
}

export const defaultClusterSigningDurationMs = 8760 * 3600 * 1000;

const minDurationMs = 10 * 60 * 1000;
/** Below this lifetime notAfter is not shortened by the backdate (upstream's PermissiveSigningPolicy.Short). */
const shortDurationMs = 8 * 3600 * 1000;

/** upstream csr.Duration: the requested lifetime, capped by the signer's maximum, never below 10 minutes. */
export function certificateTTL(maxDurationMs: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds == null) return maxDurationMs;
  return Math.max(minDurationMs, Math.min(expirationSeconds * 1000, maxDurationMs));
}

const extKeyUsages: Record<string, CertificateUsage> = { 'client auth': 'client', 'server auth': 'server' };

/** What the signer does with one CSR: issue a certificate (PEM), fail it (message), or leave it. */
export type SignResult = { certificate: string } | { failed: string } | undefined;

export async function signRequest(csr: CertificateSigningRequest, cfg: SignerConfig): Promise<SignResult> {
  if (!hasCondition(csr, 'Approved') || hasCondition(csr, 'Failed') || csr.status?.certificate) return undefined;
  const rules = signerRules[csr.spec.signerName];
  if (!rules) return undefined;
  const req = await parseRequest(csr);
  if (typeof req === 'string') return { failed: req };
  const weak = keyStrengthError(req.publicKeyPem);
  if (weak) return { failed: weak };
  if (!req.signatureValid) return { failed: 'the certificate request signature does not verify' };
  const usages = csr.spec.usages ?? [];
  const invalid = rules(req, usages);
  if (invalid) return { failed: invalid };
  const ttl = certificateTTL(cfg.maxDurationMs, csr.spec.expirationSeconds);
  const certificate = await signCSR({
    ca: cfg.ca,
    csrPem: Buffer.from(csr.spec.request, 'base64').toString('latin1'),
    usages: usages.flatMap((u) => extKeyUsages[u] ?? []),
    // notBefore is backdated 5 minutes; a long-lived certificate's notAfter is pulled in by as much, as upstream.
    validityMs: ttl < shortDurationMs ? ttl : ttl - CERTIFICATE_BACKDATE_MS,
  });
  return { certificate };
}

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export function runCSRSigner(client: KubeClient, log: Logger, signal: AbortSignal, cfg: SignerConfig): Promise<void> {
  const queue = new WorkQueue(
    async (name) => {
      const csr = await client.getOptional<CertificateSigningRequest>(`${csrPath}/${encodeURIComponent(name)}`);
      if (!csr) return;
      const result = await signRequest(csr, cfg);
      if (!result) return;
      const status = { ...csr.status, conditions: [...(csr.status?.conditions ?? [])] };
      if ('failed' in result) {
        status.conditions.push({
          type: 'Failed',
          status: 'True',
          reason: 'SignerValidationFailure',
          message: result.failed,
          lastUpdateTime: rfc3339(),
        });
      } else {
        status.certificate = Buffer.from(result.certificate).toString('base64');
      }
      try {
        await client.request('PUT', `${csrPath}/${encodeURIComponent(name)}/status`, { ...csr, status });
      } catch (err) {
        // Changed meanwhile: the watch brings the new version, which is looked at afresh.
        if (isConflict(err) || isNotFound(err)) return;
        throw err;
      }
      if ('failed' in result) log.info({ csr: name, signer: csr.spec.signerName, why: result.failed }, 'failed');
      else log.info({ csr: name, signer: csr.spec.signerName, requester: csr.spec.username }, 'signed');
    },
    log,
    signal
  );
  return runInformer<CertificateSigningRequest>(client, csrPath, log, signal, (type, csr) => {
    if (type === 'DELETED' || !signerRules[csr.spec.signerName]) return;
    if (hasCondition(csr, 'Approved') && !hasCondition(csr, 'Failed') && !csr.status?.certificate)
      queue.add(csr.metadata.name);
  });
}
