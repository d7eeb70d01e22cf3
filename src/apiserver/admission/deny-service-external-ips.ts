// DenyServiceExternalIPs (k8s plugin/pkg/admission/network/denyserviceexternalips): no new `spec.externalIPs` on
// Services. Anyone who may create a Service could otherwise claim any address and have every node's proxy
// capture its traffic (CVE-2020-8554). Addresses a Service already has may stay on update.
import { newForbidden } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { AdmissionPlugin } from './interface.js';

const externalIPs = (svc: KubeObject | undefined): string[] =>
  ((svc?.spec as { externalIPs?: string[] } | undefined)?.externalIPs ?? []).filter((ip) => typeof ip === 'string');

export function denyServiceExternalIPs(): AdmissionPlugin {
  return {
    name: 'DenyServiceExternalIPs',
    handles: (op) => op === 'CREATE' || op === 'UPDATE',
    async validate(a) {
      if (a.def.group !== '' || a.def.resource !== 'services' || a.subresource !== '') return;
      const kept = new Set(externalIPs(a.oldObject));
      if (externalIPs(a.object).every((ip) => kept.has(ip))) return;
      throw newForbidden(
        { group: '', resource: 'services' },
        a.name,
        'Use of external IPs is denied by admission control'
      );
    },
  };
}
