import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCSR } from '../../../pki/index.js';
import type { KubeObject } from '../../resource.js';
import { certificateRequestError } from './certificate-request.js';
import {
  certificatesigningrequests,
  validateCSRStatusUpdate,
  validateSignerName,
} from './certificatesigningrequests.js';
import { path } from '../../field.js';

const s = certificatesigningrequests.strategy;
const strings = (errs: { toString(): string }[] | undefined): string[] => (errs ?? []).map(String);
const { csr: pem } = await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
const b64 = (x: string): string => Buffer.from(x).toString('base64');

function csr(spec: Record<string, unknown>): KubeObject {
  return {
    metadata: { name: 'node-csr-1' },
    spec: {
      request: b64(pem),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
      ...spec,
    },
  };
}

/** The PEM with one byte of the signed subject changed, so the self-signature no longer verifies. */
function tampered(): string {
  const body = pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  const der = Buffer.from(body, 'base64');
  const at = der.indexOf(Buffer.from('system:node:n1'));
  der[at + 13] = '2'.charCodeAt(0);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('certificate requests', () => {
  it('accepts a real CSR and rejects others with upstream messages', () => {
    assert.equal(certificateRequestError(pem), undefined);
    assert.equal(certificateRequestError(''), 'PEM block type must be CERTIFICATE REQUEST');
    assert.equal(
      certificateRequestError(pem.replaceAll('CERTIFICATE REQUEST', 'CERTIFICATE')),
      'PEM block type must be CERTIFICATE REQUEST'
    );
    assert.equal(certificateRequestError(tampered()), 'x509: ECDSA verification failure');
    assert.equal(
      certificateRequestError('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'),
      'x509: malformed certificate request'
    );
  });

  it('validates the spec', () => {
    assert.deepEqual(s.validate?.(csr({})), []);
    assert.deepEqual(
      strings(s.validate?.(csr({ request: '', usages: ['client auth', 'client auth', 'flying'], signerName: '' }))),
      [
        'spec.request: Invalid value: "": PEM block type must be CERTIFICATE REQUEST',
        'spec.usages[1]: Duplicate value: "client auth"',
        `spec.usages[2]: Unsupported value: "flying": supported values: ${['any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only', 'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement', 'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping'].map((u) => `"${u}"`).join(', ')}`,
        'spec.signerName: Required value',
      ]
    );
    assert.deepEqual(strings(s.validate?.(csr({ usages: [], expirationSeconds: 60 }))), [
      'spec.usages: Required value',
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)',
    ]);
  });

  it('checks signer names as upstream', () => {
    const p = path('spec').child('signerName');
    assert.deepEqual(validateSignerName(p, 'example.com/my-signer'), []);
    assert.deepEqual(strings(validateSignerName(p, 'example')), [
      `spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
    ]);
    const errs = strings(validateSignerName(p, 'example/Signer'));
    assert.equal(errs.length, 2);
    assert.equal(
      errs[0],
      'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots'
    );
    assert.ok(
      errs[1]?.startsWith(
        `spec.signerName: Invalid value: "Signer": validating label "Signer": a lowercase RFC 1123 label`
      )
    );
  });

  it('keeps the spec on update and selects by signerName', () => {
    const old = csr({});
    assert.deepEqual(
      strings(s.validateUpdate?.(csr({ usages: ['client auth'] }), old)).map((e) => e.split(':')[0]),
      ['spec']
    );
    assert.deepEqual(s.selectableFields?.(old), { 'spec.signerName': 'kubernetes.io/kube-apiserver-client-kubelet' });
  });

  it('guards approval and status writes', () => {
    const old = csr({});
    const approved = { ...old, status: { conditions: [{ type: 'Approved', status: 'True' }] } };
    assert.deepEqual(validateCSRStatusUpdate(approved, old), []);
    const both = {
      ...old,
      status: {
        conditions: [
          { type: 'Approved', status: 'True' },
          { type: 'Denied', status: 'False' },
        ],
      },
    };
    assert.deepEqual(
      strings(validateCSRStatusUpdate(both, old)).map((e) => e.split(': ').slice(0, 2).join(': ')),
      ['status.conditions[1].status: Unsupported value', 'status.conditions: Invalid value']
    );
    assert.deepEqual(strings(validateCSRStatusUpdate(old, approved)), [
      'status.conditions: Forbidden: updates may not remove a condition of type "Approved"',
    ]);
    const issued = { ...approved, status: { ...approved.status, certificate: 'QQ==' } };
    assert.deepEqual(
      strings(validateCSRStatusUpdate({ ...issued, status: { ...issued.status, certificate: 'Qg==' } }, issued)),
      ['status.certificate: Invalid value: "<certificate data>": updates may not modify existing certificate content']
    );
  });
});
