// The CSR admission plugins (k8s plugin/pkg/admission/certificates/{approval,signing,subjectrestriction}): approving
// or signing a CertificateSigningRequest needs the `approve` / `sign` verb on its signer (`signers` in
// certificates.k8s.io, by name or `<domain>/*`), and nobody may ask the kube-apiserver-client signer for a
// system:masters certificate.
import { newBadRequest, newForbidden } from '../../api/errors.js';
import { jsonEqual } from '../../api/meta.js';
import { parseCSR } from '../../pki/index.js';
import type { Authorizer, UserInfo } from '../authz/interface.js';
import { systemPrivilegedGroup } from '../authz/modes.js';
import type { AdmissionAttributes, AdmissionPlugin } from './interface.js';

const group = 'certificates.k8s.io';
const kubeAPIServerClientSigner = 'kubernetes.io/kube-apiserver-client';

interface CSRFields {
  spec?: { signerName?: string; request?: string };
  status?: { certificate?: string; conditions?: unknown[] };
}

const isCSR = (a: AdmissionAttributes): boolean =>
  a.def.group === group && a.def.resource === 'certificatesigningrequests';

/** k8s certificates.IsAuthorizedForSignerName: the exact signer name first, then its domain wildcard. */
export async function isAuthorizedForSignerName(
  authz: Authorizer,
  user: UserInfo,
  verb: string,
  signerName: string
): Promise<boolean> {
  for (const name of [signerName, `${signerName.split('/')[0]}/*`]) {
    const attrs = {
      user,
      verb,
      resourceRequest: true,
      path: '',
      apiGroup: group,
      apiVersion: '*',
      resource: 'signers',
      subresource: '',
      namespace: '',
      name,
    };
    try {
      if ((await authz.authorize(attrs)).decision === 'allow') return true;
    } catch {
      // An authorizer that cannot evaluate grants nothing; the wildcard may still be allowed.
    }
  }
  return false;
}

const forbid = (a: AdmissionAttributes, why: string): Error =>
  newForbidden({ group, resource: 'certificatesigningrequests' }, a.name, why);

export function certificateApproval(authz: Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateApproval',
    handles: (op) => op === 'UPDATE',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== 'approval' || !a.user) return;
      const signer = (a.oldObject as CSRFields | undefined)?.spec?.signerName ?? '';
      if (!(await isAuthorizedForSignerName(authz, a.user, 'approve', signer)))
        throw forbid(a, `user not permitted to approve requests with signerName "${signer}"`);
    },
  };
}

export function certificateSigning(authz: Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateSigning',
    handles: (op) => op === 'UPDATE',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== 'status' || !a.user) return;
      const old = (a.oldObject ?? {}) as CSRFields;
      const next = (a.object ?? {}) as CSRFields;
      // Only a change of the certificate or the conditions is signing.
      if (
        (old.status?.certificate ?? '') === (next.status?.certificate ?? '') &&
        jsonEqual(old.status?.conditions ?? [], next.status?.conditions ?? [])
      )
        return;
      const signer = old.spec?.signerName ?? '';
      if (!(await isAuthorizedForSignerName(authz, a.user, 'sign', signer)))
        throw forbid(a, `user not permitted to sign requests with signerName "${signer}"`);
    },
  };
}

export function certificateSubjectRestriction(): AdmissionPlugin {
  return {
    name: 'CertificateSubjectRestriction',
    handles: (op) => op === 'CREATE',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== '') return;
      const spec = (a.object as CSRFields | undefined)?.spec;
      if (spec?.signerName !== kubeAPIServerClientSigner) return;
      let organizations: string[];
      try {
        organizations = (await parseCSR(Buffer.from(spec.request ?? '', 'base64').toString('utf8'))).organizations;
      } catch (err) {
        throw newBadRequest(`unable to parse CSR: ${(err as Error).message}`);
      }
      if (organizations.includes(systemPrivilegedGroup))
        throw forbid(
          a,
          `use of ${kubeAPIServerClientSigner} signer with ${systemPrivilegedGroup} group is not allowed`
        );
    },
  };
}
