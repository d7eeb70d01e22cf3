// certificates.k8s.io/v1 certificatesigningrequests (k8s pkg/apis/certificates/validation). The registry fills
// spec.username/uid/groups/extra from the requesting user on create, as upstream's PrepareForCreate does.
import { path, type FieldError, type FieldPath } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { arr, obj, objects, str } from '../../validation/json.js';
import {
  dns1123LabelMaxLength,
  dns1123SubdomainMaxLength,
  isDNS1123Label,
  nameIsPathSegment,
} from '../../validation/names.js';
import { validateImmutableField } from '../../validation/object-meta.js';
import { certificateRequestError } from './certificate-request.js';

/** Key usages upstream accepts, sorted as its NotSupported message lists them. */
export const keyUsages = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];

/** Upstream's ValidateSignerName: `<domain with a dot>/<path of DNS labels>`. */
export function validateSignerName(p: FieldPath, signerName: string): FieldError[] {
  if (!signerName) return [p.required()];
  const segments = signerName.split('/');
  if (segments.length !== 2) {
    return [p.invalid(signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  }
  const [domain = '', name = ''] = segments;
  const errs: FieldError[] = [];
  if (domain.length > dns1123SubdomainMaxLength) errs.push(p.tooLong(domain, dns1123SubdomainMaxLength));
  const labelErrors = (value: string, labels: string[]): FieldError[] => {
    for (const label of labels) {
      const msgs = isDNS1123Label(label);
      // Only the first bad label is reported: the rest would repeat the same message.
      if (msgs.length) return msgs.map((msg) => p.invalid(value, `validating label "${label}": ${msg}`));
    }
    return [];
  };
  const domainLabels = domain.split('.');
  errs.push(...labelErrors(domain, domainLabels));
  if (domainLabels.length < 2)
    errs.push(p.invalid(domain, 'should be a domain with at least two segments separated by dots'));
  errs.push(...labelErrors(name, name.split('.')));
  const maxPath = dns1123SubdomainMaxLength - dns1123LabelMaxLength;
  if (name.length > maxPath) errs.push(p.tooLong(name, maxPath));
  return errs;
}

function validateCSR(csr: KubeObject): FieldError[] {
  const p = path('spec');
  const spec = obj(csr.spec);
  const errs: FieldError[] = [];
  const request = str(spec.request);
  // spec.request is the PEM, base64-encoded in JSON.
  const requestError = certificateRequestError(Buffer.from(request, 'base64').toString('latin1'));
  if (requestError) errs.push(p.child('request').invalid(request, requestError));
  const usages = arr(spec.usages);
  if (usages.length === 0) errs.push(p.child('usages').required());
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (!keyUsages.includes(u as string)) errs.push(p.child('usages').index(i).notSupported(u, keyUsages));
    if (seen.has(u)) errs.push(p.child('usages').index(i).duplicate(u));
    seen.add(u);
  });
  const signerName = str(spec.signerName);
  if (signerName === 'kubernetes.io/legacy-unknown') {
    errs.push(p.child('signerName').invalid(signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName(p.child('signerName'), signerName));
  }
  const expiration = spec.expirationSeconds;
  if (expiration != null && (typeof expiration !== 'number' || expiration < 600)) {
    errs.push(
      p.child('expirationSeconds').invalid(expiration, 'may not specify a duration less than 600 seconds (10 minutes)')
    );
  }
  return errs;
}

const conditionStatuses = ['False', 'True', 'Unknown'];
const finalConditions = ['Approved', 'Denied', 'Failed'];

/**
 * Rules for writes to the `status` and `approval` subresources (upstream's validateConditions and the status
 * update checks): one condition per type, Approved and Denied exclusive and only "True", none of Approved, Denied
 * or Failed removed once set, and an issued certificate never replaced.
 */
export function validateCSRStatusUpdate(csr: KubeObject, old: KubeObject): FieldError[] {
  const p = path('status').child('conditions');
  const conditions = objects(obj(csr.status).conditions);
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  conditions.forEach((c, i) => {
    const type = str(c.type);
    if (!type) errs.push(p.index(i).child('type').required());
    if (!conditionStatuses.includes(str(c.status)))
      errs.push(p.index(i).child('status').notSupported(c.status, conditionStatuses));
    else if ((type === 'Approved' || type === 'Denied') && c.status !== 'True') {
      errs.push(p.index(i).child('status').notSupported(c.status, ['True']));
    }
    if (seen.has(type)) errs.push(p.index(i).child('type').duplicate(type));
    seen.add(type);
  });
  if (seen.has('Approved') && seen.has('Denied'))
    errs.push(p.invalid(conditions, 'Approved and Denied conditions are mutually exclusive'));
  const oldConditions = objects(obj(old.status).conditions);
  for (const type of finalConditions) {
    const count = (list: Record<string, unknown>[]) => list.filter((c) => c.type === type).length;
    if (count(conditions) < count(oldConditions))
      errs.push(p.forbidden(`updates may not remove a condition of type "${type}"`));
  }
  const oldCert = str(obj(old.status).certificate);
  if (oldCert && oldCert !== str(obj(csr.status).certificate)) {
    errs.push(
      path('status')
        .child('certificate')
        .invalid('<certificate data>', 'updates may not modify existing certificate content')
    );
  }
  return errs;
}

export const certificatesigningrequests: ResourceDef = {
  group: 'certificates.k8s.io',
  version: 'v1',
  resource: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  kind: 'CertificateSigningRequest',
  listKind: 'CertificateSigningRequestList',
  namespaced: false,
  shortNames: ['csr'],
  subresources: ['status', 'approval'],
  hasStatus: true,
  strategy: {
    // Upstream validates no CSR name beyond the path-segment rules: the kubelet's are `node-csr-<base64url>`,
    // with upper case and `_` (reference/security.md §4.2).
    nameValidator: nameIsPathSegment,
    validate: validateCSR,
    // The request is fixed once made; upstream silently keeps the old spec, here a change is refused.
    validateUpdate: (csr, old) => [...validateImmutableField(csr.spec, old.spec, path('spec')), ...validateCSR(csr)],
    selectableFields: (csr) => ({ 'spec.signerName': str(obj(csr.spec).signerName) }),
  },
};
