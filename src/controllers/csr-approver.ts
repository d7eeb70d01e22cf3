// The CSR approver (upstream pkg/controller/certificates/approver, "csrapproving"), plus kubelet serving CSRs.
//
// Kubelet client CSRs are approved exactly as upstream: the request must be a valid kubelet client request
// (csr-rules.ts), and a SubjectAccessReview must allow its *requester* to `create`
// certificates.k8s.io/certificatesigningrequests/selfnodeclient (when the requester renews its own identity,
// spec.username == CN) or .../nodeclient (anyone else, such as a bootstrap token). Nothing passes → the CSR is
// left pending, with no condition, for an administrator: upstream never denies.
//
// Kubelet serving CSRs, which upstream leaves to the administrator, are approved when the requester is the node
// named in the subject (`system:node:<n>` in `system:nodes`) and every SAN is that node's name or one of the
// addresses in its Node's status (docs/paths.md says why). Anything else stays pending, as upstream.
import { isIP } from 'node:net';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { canonicalIP, type CSRInfo } from '../pki/index.js';
import {
  hasCondition,
  kubeletClientError,
  kubeletClientSigner,
  kubeletServingError,
  kubeletServingSigner,
  parseRequest,
  type CertificateSigningRequest,
} from './csr-rules.js';
import { runInformer } from '../lib/informer.js';
import { WorkQueue } from './queue.js';

/** The attributes of an authorization.k8s.io/v1 SubjectAccessReview spec the approver asks about. */
export interface AccessReview {
  user: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes: { group: string; resource: string; subresource: string; verb: string; version: string };
}

/** Answers whether the reviewed user may do what the review asks. */
export type SubjectAccessReviewer = (review: AccessReview) => Promise<boolean>;

/** A reviewer that asks the API server (`POST /apis/authorization.k8s.io/v1/subjectaccessreviews`). */
export function subjectAccessReviewer(client: KubeClient): SubjectAccessReviewer {
  return async (spec) => {
    const res = await client.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec }
    );
    return res.status?.allowed === true;
  };
}

interface NodeAddress {
  type: string;
  address: string;
}
export interface NodeLike {
  metadata: { name: string };
  status?: { addresses?: NodeAddress[] };
}

export interface ApproverDeps {
  review: SubjectAccessReviewer;
  /** The Node, or undefined when there is none. */
  getNode: (name: string) => Promise<NodeLike | undefined>;
}

/**
 * What the approver decided: an Approved condition to add, or why the CSR is left pending; `recheck` when the
 * answer may change as the Node registers or reports its addresses.
 */
export type Decision = { approve: { reason: string; message: string } } | { pending: string; recheck?: boolean };

const nodePrefix = 'system:node:';

interface Recognizer {
  subresource: 'selfnodeclient' | 'nodeclient';
  recognize(csr: CertificateSigningRequest, req: CSRInfo): boolean;
  message: string;
}

const isNodeClient = (csr: CertificateSigningRequest, req: CSRInfo): boolean =>
  csr.spec.signerName === kubeletClientSigner && kubeletClientError(req, csr.spec.usages ?? []) === undefined;

// Tried in order; the first whose SubjectAccessReview allows wins (upstream's recognizers()).
const recognizers: Recognizer[] = [
  {
    subresource: 'selfnodeclient',
    recognize: (csr, req) => csr.spec.username === req.commonName && isNodeClient(csr, req),
    message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    subresource: 'nodeclient',
    recognize: isNodeClient,
    message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

async function decideKubeletClient(
  csr: CertificateSigningRequest,
  req: CSRInfo,
  review: SubjectAccessReviewer
): Promise<Decision> {
  const tried: string[] = [];
  for (const r of recognizers) {
    if (!r.recognize(csr, req)) continue;
    tried.push(r.subresource);
    const allowed = await review({
      user: csr.spec.username ?? '',
      uid: csr.spec.uid,
      groups: csr.spec.groups,
      extra: csr.spec.extra,
      resourceAttributes: {
        group: 'certificates.k8s.io',
        resource: 'certificatesigningrequests',
        subresource: r.subresource,
        verb: 'create',
        version: '*',
      },
    });
    if (allowed) return { approve: { reason: 'AutoApproved', message: r.message } };
  }
  return {
    pending: tried.length
      ? `recognized csr "${csr.metadata.name}" as [${tried.join(' ')}] but subject access review was not approved`
      : `csr "${csr.metadata.name}" is not a valid kubelet client request: ${kubeletClientError(req, csr.spec.usages ?? [])}`,
  };
}

async function decideKubeletServing(
  csr: CertificateSigningRequest,
  req: CSRInfo,
  getNode: ApproverDeps['getNode']
): Promise<Decision> {
  const username = csr.spec.username ?? '';
  if (!username.startsWith(nodePrefix) || !(csr.spec.groups ?? []).includes('system:nodes'))
    return { pending: `requester "${username}" is not a node` };
  if (req.commonName !== username)
    return { pending: `node "${username}" asked for a certificate for "${req.commonName}"` };
  const invalid = kubeletServingError(req, csr.spec.usages ?? []);
  if (invalid) return { pending: invalid };
  const nodeName = username.slice(nodePrefix.length);
  const node = await getNode(nodeName);
  if (!node) return { pending: `node "${nodeName}" does not exist`, recheck: true };
  const addresses = node.status?.addresses ?? [];
  const ips = new Set(addresses.filter((a) => isIP(a.address)).map((a) => canonicalIP(a.address)));
  const dnsNames = new Set([nodeName, ...addresses.filter((a) => !isIP(a.address)).map((a) => a.address)]);
  const foreignDNS = req.dnsNames.find((d) => !dnsNames.has(d));
  if (foreignDNS !== undefined)
    return { pending: `DNS name "${foreignDNS}" is not an address of node "${nodeName}"`, recheck: true };
  const foreignIP = req.ipAddresses.find((ip) => !ips.has(canonicalIP(ip)));
  if (foreignIP !== undefined)
    return { pending: `IP address ${foreignIP} is not an address of node "${nodeName}"`, recheck: true };
  return {
    approve: {
      reason: 'AutoApproved',
      message: `Auto approving kubelet serving certificate: its names are those of Node ${nodeName}.`,
    },
  };
}

/**
 * Decides one CSR. Issued, approved or denied CSRs and those of other signers are left as they are.
 *
 * @throws when a SubjectAccessReview or the Node lookup fails (the caller retries).
 */
export async function decideApproval(csr: CertificateSigningRequest, deps: ApproverDeps): Promise<Decision> {
  if (csr.status?.certificate) return { pending: 'already issued' };
  if (hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied')) return { pending: 'already decided' };
  if (csr.spec.signerName !== kubeletClientSigner && csr.spec.signerName !== kubeletServingSigner)
    return { pending: `signer ${csr.spec.signerName} is not auto-approved` };
  const req = await parseRequest(csr);
  if (typeof req === 'string') return { pending: req };
  return csr.spec.signerName === kubeletClientSigner
    ? decideKubeletClient(csr, req, deps.review)
    : decideKubeletServing(csr, req, deps.getNode);
}

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** How soon a serving CSR whose Node did not (yet) match is looked at again, and for how long after its creation. */
const recheckMs = 15_000;
const recheckForMs = 3600_000;

/** Watches CSRs and approves those {@link decideApproval} approves, through the `/approval` subresource. */
export function runCSRApprover(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
  deps: ApproverDeps = {
    review: subjectAccessReviewer(client),
    getNode: (name) => client.getOptional<NodeLike>(`/api/v1/nodes/${encodeURIComponent(name)}`),
  }
): Promise<void> {
  const queue = new WorkQueue(
    async (name) => {
      const csr = await client.getOptional<CertificateSigningRequest>(`${csrPath}/${encodeURIComponent(name)}`);
      if (!csr) return;
      const decision = await decideApproval(csr, deps);
      if ('pending' in decision) {
        log.debug({ csr: name, why: decision.pending }, 'not auto-approving');
        const age = Date.now() - Date.parse(csr.metadata.creationTimestamp ?? '');
        if (decision.recheck && age < recheckForMs) queue.add(name, recheckMs);
        return;
      }
      const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', ...decision.approve }];
      await client.request('PUT', `${csrPath}/${encodeURIComponent(name)}/approval`, {
        ...csr,
        status: { ...csr.status, conditions },
      });
      log.info({ csr: name, signer: csr.spec.signerName, requester: csr.spec.username }, 'approved');
    },
    log,
    signal
  );
  return runInformer<CertificateSigningRequest>(client, csrPath, log, signal, (type, csr) => {
    if (type === 'DELETED') return;
    if (csr.status?.certificate || hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied')) return;
    queue.add(csr.metadata.name);
  });
}
