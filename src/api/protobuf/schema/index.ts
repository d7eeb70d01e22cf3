// The compiled message tables and the (apiVersion, kind) → message lookup the envelope needs.
import { wellKnownTypes } from '../well-known.js';
import { authenticationMessages } from './authentication.js';
import { authorizationMessages } from './authorization.js';
import { certificatesMessages } from './certificates.js';
import { coordinationMessages } from './coordination.js';
import { coreMessages } from './core.js';
import { discoveryMessages } from './discovery.js';
import { eventsMessages } from './events.js';
import { metaMessages } from './meta.js';
import { policyMessages } from './policy.js';
import { rbacMessages } from './rbac.js';
import { schedulingMessages } from './scheduling.js';
import { compileMessage, isScalarType } from './types.js';
import type { MessageDef, MessageSpecs } from './types.js';

const tables: readonly MessageSpecs[] = [
  metaMessages,
  coreMessages,
  rbacMessages,
  authenticationMessages,
  authorizationMessages,
  certificatesMessages,
  policyMessages,
  coordinationMessages,
  discoveryMessages,
  eventsMessages,
  schedulingMessages,
];

const messages: ReadonlyMap<string, MessageDef> = new Map(
  tables.flatMap((table) => Object.entries(table).map(([name, specs]) => [name, compileMessage(name, specs)] as const))
);

/** Message names the tables refer to but do not define; empty unless a table has a typo. */
export function unresolvedTypes(): string[] {
  const missing = new Set<string>();
  for (const message of messages.values()) {
    for (const field of message.fields) {
      if (!isScalarType(field.type) && !messages.has(field.type) && !wellKnownTypes.has(field.type)) {
        missing.add(`${message.name}.${field.jsonName || '(inline)'}: ${field.type}`);
      }
    }
  }
  return [...missing];
}

export function messageDef(name: string): MessageDef | undefined {
  return messages.get(name);
}

/** The top-level kinds of each group version. */
const kinds: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  v1: {
    Binding: 'core.Binding',
    ConfigMap: 'core.ConfigMap',
    Endpoints: 'core.Endpoints',
    Event: 'core.Event',
    Namespace: 'core.Namespace',
    Node: 'core.Node',
    Pod: 'core.Pod',
    Secret: 'core.Secret',
    Service: 'core.Service',
    ServiceAccount: 'core.ServiceAccount',
  },
  'rbac.authorization.k8s.io/v1': {
    ClusterRole: 'rbac.ClusterRole',
    ClusterRoleBinding: 'rbac.ClusterRoleBinding',
    Role: 'rbac.Role',
    RoleBinding: 'rbac.RoleBinding',
  },
  'authentication.k8s.io/v1': {
    SelfSubjectReview: 'authentication.SelfSubjectReview',
    TokenRequest: 'authentication.TokenRequest',
    TokenReview: 'authentication.TokenReview',
  },
  'authorization.k8s.io/v1': {
    LocalSubjectAccessReview: 'authorization.LocalSubjectAccessReview',
    SelfSubjectAccessReview: 'authorization.SelfSubjectAccessReview',
    SelfSubjectRulesReview: 'authorization.SelfSubjectRulesReview',
    SubjectAccessReview: 'authorization.SubjectAccessReview',
  },
  'certificates.k8s.io/v1': { CertificateSigningRequest: 'certificates.CertificateSigningRequest' },
  'policy/v1': { Eviction: 'policy.Eviction' },
  'coordination.k8s.io/v1': { Lease: 'coordination.Lease' },
  'discovery.k8s.io/v1': { EndpointSlice: 'discovery.EndpointSlice' },
  'events.k8s.io/v1': { Event: 'events.Event' },
  'scheduling.k8s.io/v1': { PriorityClass: 'scheduling.PriorityClass' },
};

const kindIndex: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map(
  Object.entries(kinds).map(([apiVersion, byKind]) => [apiVersion, new Map(Object.entries(byKind))])
);

/** Every (apiVersion, kind) pair the codec can read and write. */
export function knownKinds(): Array<{ apiVersion: string; kind: string }> {
  return Object.entries(kinds).flatMap(([apiVersion, byKind]) =>
    Object.keys(byKind).map((kind) => ({ apiVersion, kind }))
  );
}

export function messageForKind(apiVersion: string, kind: string): MessageDef | undefined {
  // metav1.AddToGroupVersion registers DeleteOptions in every group version, and client-go encodes it with the
  // group version of the request it is the body of (a DELETE of a Role carries rbac.authorization.k8s.io/v1).
  if (kind === 'DeleteOptions') return messages.get('meta.DeleteOptions');
  const name = kindIndex.get(apiVersion)?.get(kind);
  return name === undefined ? undefined : messages.get(name);
}
