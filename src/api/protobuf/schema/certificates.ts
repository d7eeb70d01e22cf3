// k8s.io/api/certificates/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const certificatesMessages: MessageSpecs = {
  'certificates.CertificateSigningRequest': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'spec', 'certificates.CertificateSigningRequestSpec'],
    [3, 'status', 'certificates.CertificateSigningRequestStatus'],
  ],
  'certificates.CertificateSigningRequestCondition': [
    [1, 'type', 'string!'],
    [6, 'status', 'string!'],
    [2, 'reason', 'string'],
    [3, 'message', 'string'],
    [4, 'lastUpdateTime', 'meta.Time'],
    [5, 'lastTransitionTime', 'meta.Time'],
  ],
  'certificates.CertificateSigningRequestSpec': [
    [1, 'request', 'bytes'],
    [7, 'signerName', 'string!'],
    [8, 'expirationSeconds', '*int32'],
    [5, 'usages', '[]string'],
    [2, 'username', 'string'],
    [3, 'uid', 'string'],
    [4, 'groups', '[]string'],
    [6, 'extra', 'map[string]certificates.ExtraValue'],
  ],
  'certificates.CertificateSigningRequestStatus': [
    [1, 'conditions', '[]certificates.CertificateSigningRequestCondition'],
    [2, 'certificate', 'bytes'],
  ],
};
