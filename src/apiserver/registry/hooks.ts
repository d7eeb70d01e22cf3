// Per-resource registry behaviour (upstream's REST overrides in pkg/registry/core/*): pod graceful deletion,
// namespace termination, Service IP and NodePort allocation.
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { Store } from '../../storage/interface.js';
import { ipv4ToNumber, ipv4ToString, parseIPv4CIDR, ValueAllocator } from './allocator.js';
import type { RegistryHooks } from './store.js';

type Obj = Record<string, any>;

export const podHooks: RegistryHooks = {
  /** A pod on a node waits for its kubelet to stop it; an unscheduled or finished pod goes at once. */
  gracePeriod(pod, requested) {
    const spec = (pod.spec ?? {}) as Obj;
    const phase = (pod.status as Obj | undefined)?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    return requested ?? spec.terminationGracePeriodSeconds ?? 30;
  },
};

export const namespaceHooks: RegistryHooks = {
  blocksDeletion(ns) {
    return ((ns.spec as Obj | undefined)?.finalizers ?? []).length > 0;
  },
  onMarkDeleted(ns) {
    ((ns.status ??= {}) as Obj).phase = 'Terminating';
  },
};

/** A CSR records who asked for it, from the authenticated user, never from the body (upstream's strategy). */
export const csrHooks: RegistryHooks = {
  async beforeCreate(csr, op) {
    const spec = (csr.spec ??= {}) as Obj;
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    if (!op.user) return;
    spec.username = op.user.name;
    if (op.user.uid) spec.uid = op.user.uid;
    spec.groups = op.user.groups;
    if (op.user.extra) spec.extra = op.user.extra;
  },
};

const nodePortBase = 30000;
const nodePortCount = 2768; // 30000-32767, upstream's --service-node-port-range default

export function serviceHooks(storage: Store, serviceCIDR: string): RegistryHooks {
  const range = parseIPv4CIDR(serviceCIDR);
  const ips = new ValueAllocator(
    storage,
    '/registry/serviceips/',
    range.size,
    (o) => ipv4ToString(range.base + o),
    'ClusterIP'
  );
  const ports = new ValueAllocator(
    storage,
    '/registry/servicenodeports/',
    nodePortCount,
    (o) => String(nodePortBase + o),
    'NodePort'
  );
  // The network address, the broadcast address and the first IP (the `kubernetes` Service's) are never handed out at random.
  const reserved = new Set([0, 1, range.size - 1]);
  const ownerOf = (svc: KubeObject): string => `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  const wantsNodePorts = (spec: Obj): boolean => spec.type === 'NodePort' || spec.type === 'LoadBalancer';

  return {
    async beforeCreate(svc) {
      const spec = (svc.spec ??= {}) as Obj;
      const owner = ownerOf(svc);
      if (spec.type !== 'ExternalName') {
        const requested: string | undefined = spec.clusterIP || spec.clusterIPs?.[0];
        if (requested === 'None') {
          spec.clusterIPs = ['None'];
        } else if (requested) {
          const n = ipv4ToNumber(requested);
          if (n === undefined || n < range.base || n >= range.base + range.size)
            throw new StatusError(
              422,
              'Invalid',
              `Service "${svc.metadata?.name}" is invalid: spec.clusterIPs: Invalid value: ["${requested}"]: failed to allocate IP ${requested}: provided IP is not in the valid range. The range of valid IPs is ${serviceCIDR}`
            );
          await ips.allocate(requested, owner);
          spec.clusterIP = requested;
          spec.clusterIPs = [requested];
        } else {
          spec.clusterIP = await ips.allocateNext(owner, reserved);
          spec.clusterIPs = [spec.clusterIP];
        }
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
      }
      if (wantsNodePorts(spec)) {
        for (const p of (spec.ports ?? []) as Obj[]) {
          if (p.nodePort) await ports.allocate(String(p.nodePort), owner);
          else p.nodePort = Number(await ports.allocateNext(owner));
        }
      }
    },
    async afterDelete(svc) {
      const spec = (svc.spec ?? {}) as Obj;
      if (spec.clusterIP && spec.clusterIP !== 'None') await ips.release(spec.clusterIP);
      for (const p of (spec.ports ?? []) as Obj[]) if (p.nodePort) await ports.release(String(p.nodePort));
    },
    /** Allocated values the client left out of an update are kept (upstream patchAllocatedValues). */
    prepareForUpdate(svc, old) {
      const spec = (svc.spec ??= {}) as Obj;
      const oldSpec = (old.spec ?? {}) as Obj;
      if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
      if (!spec.clusterIPs && oldSpec.clusterIPs) spec.clusterIPs = oldSpec.clusterIPs;
      if (wantsNodePorts(spec) && wantsNodePorts(oldSpec)) {
        for (const p of (spec.ports ?? []) as Obj[]) {
          const prev = ((oldSpec.ports ?? []) as Obj[]).find(
            (o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP')
          );
          if (!p.nodePort && prev?.nodePort) p.nodePort = prev.nodePort;
        }
      }
    },
  };
}
