// CertificateSigningRequests (upstream printCertificateSigningRequest).
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../resource.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, type Printer } from './columns.js';
import { docs } from './descriptions.js';
import { humanDuration } from './duration.js';

/** `Denied` over `Approved` over `Pending`, then `,Failed` and `,Issued` (upstream extractCSRStatus). */
export function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

function csrCells(obj: KubeObject, now: Date): unknown[] {
  const csr = obj as unknown as CertificateSigningRequest;
  const seconds = csr.spec?.expirationSeconds;
  return [
    nameOf(obj),
    ageOf(obj, now),
    csr.spec?.signerName || '<none>',
    csr.spec?.username ?? '',
    seconds === undefined ? '<none>' : humanDuration(seconds * 1000),
    csrCondition(csr),
  ];
}

export const csrPrinter: Printer = {
  columns: [
    nameColumn,
    ageColumn,
    column('SignerName', 'string', docs.csrSpec.signerName),
    column('Requestor', 'string', docs.csrSpec.request),
    column('RequestedDuration', 'string', docs.csrSpec.expirationSeconds),
    column('Condition', 'string', docs.csrStatus.conditions),
  ],
  cells: csrCells,
};
