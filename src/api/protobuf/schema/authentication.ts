// k8s.io/api/authentication/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const authenticationMessages: MessageSpecs = {
  'authentication.BoundObjectReference': [
    [1, 'kind', 'string'],
    [2, 'apiVersion', 'string'],
    [3, 'name', 'string'],
    [4, 'uid', 'string'],
  ],
  'authentication.SelfSubjectReview': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'status', 'authentication.SelfSubjectReviewStatus'],
  ],
  'authentication.SelfSubjectReviewStatus': [[1, 'userInfo', 'authentication.UserInfo']],
  'authentication.TokenRequest': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'spec', 'authentication.TokenRequestSpec'],
    [3, 'status', 'authentication.TokenRequestStatus'],
  ],
  'authentication.TokenRequestSpec': [
    [1, 'audiences', '[]string'],
    [4, 'expirationSeconds', '*int64'],
    [3, 'boundObjectRef', '*authentication.BoundObjectReference'],
    [5, 'attestations', 'map[string]authentication.AttestationValue'],
  ],
  'authentication.TokenRequestStatus': [
    [1, 'token', 'string!'],
    [2, 'expirationTimestamp', 'meta.Time'],
  ],
  'authentication.TokenReview': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [2, 'spec', 'authentication.TokenReviewSpec'],
    [3, 'status', 'authentication.TokenReviewStatus'],
  ],
  'authentication.TokenReviewSpec': [
    [1, 'token', 'string'],
    [2, 'audiences', '[]string'],
  ],
  'authentication.TokenReviewStatus': [
    [1, 'authenticated', 'bool'],
    [2, 'user', 'authentication.UserInfo'],
    [4, 'audiences', '[]string'],
    [3, 'error', 'string'],
  ],
  'authentication.UserInfo': [
    [1, 'username', 'string'],
    [2, 'uid', 'string'],
    [3, 'groups', '[]string'],
    [4, 'extra', 'map[string]authentication.ExtraValue'],
  ],
};
