// authentication.k8s.io/v1 reviews (k8s pkg/registry/authentication): create-only, never stored. TokenReview asks
// the server's authenticators about a token (the kubelet's webhook authentication); SelfSubjectReview returns the
// caller's own identity (`kubectl auth whoami`).
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { metadataIsEmpty } from '../authorization.k8s.io/reviews.js';

const createOnly = ['create'];

export const tokenreviews: ResourceDef = {
  group: 'authentication.k8s.io',
  version: 'v1',
  resource: 'tokenreviews',
  singular: 'tokenreview',
  kind: 'TokenReview',
  listKind: 'TokenReviewList',
  namespaced: false,
  verbs: createOnly,
  // The token itself is checked by the handler: upstream answers a missing token with 400, not 422.
  strategy: {},
};

export const selfsubjectreviews: ResourceDef = {
  group: 'authentication.k8s.io',
  version: 'v1',
  resource: 'selfsubjectreviews',
  singular: 'selfsubjectreview',
  kind: 'SelfSubjectReview',
  listKind: 'SelfSubjectReviewList',
  namespaced: false,
  verbs: createOnly,
  strategy: {
    validate: (r: KubeObject): FieldError[] =>
      metadataIsEmpty(r) ? [] : [path('metadata').invalid(r.metadata, 'must be empty')],
  },
};
