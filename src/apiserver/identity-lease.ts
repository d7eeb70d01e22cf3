// API server identity (upstream's apiserver identity leases, KEP-1965): every API server keeps a Lease in
// kube-system named `apiserver-<id>`, labelled `apiserver.kubernetes.io/identity: kube-apiserver`, renewed every few
// seconds; a lease whose renewTime + leaseDurationSeconds has passed belongs to a server that is gone, and every
// server's garbage collector deletes such leases (upstream's apiserverleasegc). hubspoke adds this server's
// advertise address and secure port as annotations: the `kubernetes` Service's endpoints controller reads the live
// leases to list the live API servers (docs/architecture.md). Written through the registry in process, as upstream
// writes them through its loopback client.
import { createHash, randomUUID } from 'node:crypto';
import { StatusError } from '../api/errors.js';
import { rfc3339Micro } from '../api/meta.js';
import type { KubeObject } from '../api/resource.js';
import { parseLabelSelector } from '../api/selectors.js';
import type { Logger } from '../lib/log.js';
import type { RegistryStore } from './registry/store.js';

export const identityLeaseNamespace = 'kube-system';
export const identityLabel = 'apiserver.kubernetes.io/identity';
export const identityLabelValue = 'kube-apiserver';
export const advertiseAddressAnnotation = 'hubspoke.io/advertise-address';
export const securePortAnnotation = 'hubspoke.io/secure-port';

export interface IdentityLeaseOptions {
  /** Lease lifetime without renewal. @default 15000 */
  leaseDurationMs?: number;
  /** Time between renewals. @default 5000 */
  renewIntervalMs?: number;
  /** Time between garbage collections of expired identity leases. @default the lease duration */
  gcIntervalMs?: number;
}

/**
 * A stable id for a server: upstream hashes the hostname; hubspoke hashes hostname, advertise address and port,
 * because several servers of one cluster may share a host (and each lease names one endpoint).
 */
export function apiServerIdentity(hostname: string, advertiseAddress: string, port: number): string {
  const hash = createHash('sha256').update(`${hostname}/${advertiseAddress}:${port}`).digest();
  return `apiserver-${base32(hash.subarray(0, 16))}`;
}

function base32(buf: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** True while the lease's holder renews it: renewTime + leaseDurationSeconds is still ahead. */
export function leaseLive(lease: KubeObject, now = Date.now()): boolean {
  const spec = (lease.spec ?? {}) as { renewTime?: string; leaseDurationSeconds?: number };
  if (!spec.renewTime || !spec.leaseDurationSeconds) return false;
  return Date.parse(spec.renewTime) + spec.leaseDurationSeconds * 1000 > now;
}

export class IdentityLease {
  readonly name: string;
  readonly holderIdentity: string;
  readonly #o: Required<IdentityLeaseOptions>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #desired: KubeObject;

  constructor(
    private readonly leases: RegistryStore,
    server: { hostname: string; advertiseAddress: string; port: number },
    private readonly log: Logger,
    opts: IdentityLeaseOptions = {}
  ) {
    this.name = apiServerIdentity(server.hostname, server.advertiseAddress, server.port);
    this.holderIdentity = `${this.name}_${randomUUID()}`;
    const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.#o = {
      leaseDurationMs,
      renewIntervalMs: opts.renewIntervalMs ?? 5_000,
      gcIntervalMs: opts.gcIntervalMs ?? leaseDurationMs,
    };
    this.#desired = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: identityLeaseNamespace,
        labels: { [identityLabel]: identityLabelValue },
        annotations: {
          [advertiseAddressAnnotation]: server.advertiseAddress,
          [securePortAnnotation]: String(server.port),
        },
      },
      spec: {
        holderIdentity: this.holderIdentity,
        leaseDurationSeconds: Math.max(1, Math.round(leaseDurationMs / 1000)),
      },
    };
  }

  /** Writes the lease now, then keeps renewing it and collecting expired ones until stop(). */
  async start(): Promise<void> {
    await this.renew();
    const renew = setInterval(() => void this.renew(), this.#o.renewIntervalMs);
    const gc = setInterval(() => void this.collectGarbage(), this.#o.gcIntervalMs);
    renew.unref();
    gc.unref();
    this.#timers.push(renew, gc);
  }

  /** Creates or renews this server's lease (renewTime = now, labels and annotations as desired). */
  async renew(): Promise<void> {
    const now = rfc3339Micro();
    const op = { dryRun: false };
    const desired = (current?: KubeObject): KubeObject => ({
      ...this.#desired,
      metadata: {
        ...current?.metadata,
        ...this.#desired.metadata,
        labels: { ...current?.metadata?.labels, ...this.#desired.metadata!.labels },
        annotations: { ...current?.metadata?.annotations, ...this.#desired.metadata!.annotations },
      },
      spec: {
        ...(this.#desired.spec as object),
        acquireTime: (current?.spec as { acquireTime?: string } | undefined)?.acquireTime ?? now,
        renewTime: now,
      },
    });
    try {
      await this.leases.guaranteedUpdate(
        identityLeaseNamespace,
        this.name,
        op,
        (current) => desired(current),
        () => Promise.resolve(desired())
      );
    } catch (err) {
      this.log.warn({ err, lease: this.name }, 'failed to renew the API server identity lease');
    }
  }

  /** Deletes identity leases that expired (their server is gone), each only at the revision found expired. */
  async collectGarbage(now = Date.now()): Promise<number> {
    let deleted = 0;
    try {
      const list = await this.leases.list(identityLeaseNamespace, {
        labelSelector: parseLabelSelector(`${identityLabel}=${identityLabelValue}`),
        resourceVersion: '0',
      });
      for (const lease of list.items) {
        if (leaseLive(lease, now)) continue;
        try {
          await this.leases.delete(
            identityLeaseNamespace,
            lease.metadata!.name!,
            { preconditions: { resourceVersion: lease.metadata!.resourceVersion } },
            { dryRun: false }
          );
          deleted++;
          this.log.info({ lease: lease.metadata!.name }, 'deleted expired API server identity lease');
        } catch (err) {
          // Renewed (409) or already collected by another server (404) since the list.
          if (!(err instanceof StatusError && (err.code === 409 || err.code === 404))) throw err;
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'API server identity lease garbage collection failed');
    }
    return deleted;
  }

  /** Stops renewing; with `remove`, deletes this server's lease so the others stop listing it at once. */
  async stop(remove: boolean): Promise<void> {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (!remove) return;
    try {
      await this.leases.delete(identityLeaseNamespace, this.name, {}, { dryRun: false });
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 404))
        this.log.warn({ err, lease: this.name }, 'failed to delete the API server identity lease');
    }
  }
}
