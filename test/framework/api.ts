// Talking to a test control plane as cluster-admin, and waiting for what controllers do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../../src/lib/kube-client.js';
import { issueCertificate } from '../../src/pki/index.js';
import type { TestControlPlane } from './control-plane.js';

/** A KubeClient with the admin certificate (system:masters) the control plane wrote. */
export function adminClient(cp: TestControlPlane): KubeClient {
  const pki = join(cp.dataDir, 'pki');
  return new KubeClient({
    server: cp.url,
    caPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    certPem: readFileSync(join(pki, 'admin.crt'), 'utf8'),
    keyPem: readFileSync(join(pki, 'admin.key'), 'utf8'),
  });
}

/** A KubeClient as `user` (a client certificate from the cluster CA, with `groups` as organizations). */
export async function userClient(cp: TestControlPlane, user: string, groups: string[] = []): Promise<KubeClient> {
  const { ca } = cp.server.pki;
  const c = await issueCertificate({
    ca,
    commonName: user,
    organizations: groups,
    usages: ['client'],
    validityMs: 3_600_000,
  });
  return new KubeClient({ server: cp.url, caPem: ca.cert, certPem: c.cert, keyPem: c.key });
}

/** Polls until `fn` returns a value (not undefined), or fails after `ms` naming what it waited for. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
