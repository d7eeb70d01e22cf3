import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/resource.js';
import { certificatesigningrequests as csrs } from '../../api/resources/certificates.k8s.io/certificatesigningrequests.js';
import { createCSR } from '../../pki/index.js';
import type { Attributes, Authorizer, UserInfo } from '../authz/interface.js';
import { certificateApproval, certificateSigning, certificateSubjectRestriction } from './certificates.js';
import type { AdmissionAttributes } from './interface.js';

// Grants exactly the `verb signers/<name>` pairs listed.
const grants = (...allowed: string[]): Authorizer => ({
  authorize: async (a: Attributes) => ({
    decision:
      a.apiGroup === 'certificates.k8s.io' && a.resource === 'signers' && allowed.includes(`${a.verb} ${a.name}`)
        ? 'allow'
        : 'noOpinion',
    reason: '',
  }),
});

const user: UserInfo = { name: 'approver', groups: ['system:authenticated'] };
const csr = (signerName: string, status: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'req' },
  spec: { signerName, request: '', usages: ['client auth'] },
  status,
});

const update = (subresource: string, oldObject: KubeObject, object: KubeObject): AdmissionAttributes => ({
  operation: 'UPDATE',
  def: csrs,
  subresource,
  namespace: '',
  name: 'req',
  object,
  oldObject,
  user,
  dryRun: false,
});

const approved = { conditions: [{ type: 'Approved', status: 'True' }] };

describe('CertificateApproval', () => {
  const kubelet = 'kubernetes.io/kube-apiserver-client-kubelet';
  test('needs approve on the signer or on its domain wildcard', async () => {
    const a = update('approval', csr(kubelet), csr(kubelet, approved));
    await certificateApproval(grants(`approve ${kubelet}`)).validate!(a);
    await certificateApproval(grants('approve kubernetes.io/*')).validate!(a);
    await assert.rejects(
      certificateApproval(grants(`approve example.com/x`, `sign ${kubelet}`)).validate!(a),
      /certificatesigningrequests.certificates.k8s.io "req" is forbidden: user not permitted to approve requests with signerName "kubernetes.io\/kube-apiserver-client-kubelet"/
    );
  });
  test('other writes are not approvals', async () => {
    await certificateApproval(grants()).validate!(update('', csr(kubelet), csr(kubelet)));
  });
});

describe('CertificateSigning', () => {
  const signer = 'kubernetes.io/kubelet-serving';
  test('setting the certificate needs sign on the signer', async () => {
    const a = update('status', csr(signer, approved), csr(signer, { ...approved, certificate: 'Y2VydA==' }));
    await certificateSigning(grants(`sign ${signer}`)).validate!(a);
    await assert.rejects(
      certificateSigning(grants(`approve ${signer}`)).validate!(a),
      /user not permitted to sign requests with signerName "kubernetes.io\/kubelet-serving"/
    );
  });
  test('a status write that changes neither certificate nor conditions is not signing', async () => {
    await certificateSigning(grants()).validate!(update('status', csr(signer, approved), csr(signer, approved)));
  });
});

describe('CertificateSubjectRestriction', () => {
  const create = async (signerName: string, organizations: string[]): Promise<AdmissionAttributes> => {
    const { csr: pem } = await createCSR({ commonName: 'someone', organizations });
    const obj = csr(signerName);
    (obj.spec as { request: string }).request = Buffer.from(pem).toString('base64');
    return { operation: 'CREATE', def: csrs, subresource: '', namespace: '', name: 'req', object: obj, dryRun: false };
  };
  const plugin = certificateSubjectRestriction();
  test('system:masters from the kube-apiserver-client signer is refused', async () => {
    await assert.rejects(
      plugin.validate!(await create('kubernetes.io/kube-apiserver-client', ['dev', 'system:masters'])),
      /use of kubernetes.io\/kube-apiserver-client signer with system:masters group is not allowed/
    );
  });
  test('other groups, and other signers, pass', async () => {
    await plugin.validate!(await create('kubernetes.io/kube-apiserver-client', ['dev']));
    await plugin.validate!(await create('example.com/custom', ['system:masters']));
  });
});
