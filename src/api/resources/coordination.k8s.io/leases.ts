// coordination.k8s.io/v1 leases (k8s pkg/apis/coordination/validation): node heartbeats and leader election.
import { path, type FieldError } from '../../field.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { obj } from '../../validation/json.js';

// MicroTime: RFC 3339 with an optional fraction. Upstream's decoder rejects anything else with a 400.
const microTimeRegexp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function validateLease(lease: KubeObject): FieldError[] {
  const p = path('spec');
  const spec = obj(lease.spec);
  const errs: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration != null && (typeof duration !== 'number' || duration <= 0)) {
    errs.push(p.child('leaseDurationSeconds').invalid(duration, 'must be greater than 0'));
  }
  const transitions = spec.leaseTransitions;
  if (transitions != null && (typeof transitions !== 'number' || transitions < 0)) {
    errs.push(p.child('leaseTransitions').invalid(transitions, 'must be greater than or equal to 0'));
  }
  for (const f of ['acquireTime', 'renewTime']) {
    const t = spec[f];
    if (t != null && (typeof t !== 'string' || !microTimeRegexp.test(t))) {
      errs.push(p.child(f).invalid(t, 'must be an RFC 3339 date-time (e.g. 2006-01-02T15:04:05.000000Z)'));
    }
  }
  return errs;
}

export const leases: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  singular: 'lease',
  kind: 'Lease',
  listKind: 'LeaseList',
  namespaced: true,
  strategy: { validate: validateLease },
};
