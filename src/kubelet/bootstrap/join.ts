// `hubspoke agent`'s join (kubeadm join's discovery and kubelet-start phases): unless the node already holds a
// usable client certificate, find the cluster CA by token discovery, check it against the pin, and write the
// bootstrap kubeconfig the kubelet then bootstraps its client certificate with. Nothing is written before the CA
// is trusted.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { writeKeyFile } from '../../pki/index.js';
import { bootstrapKubeconfig, clientCertificateProblem } from './bootstrap.js';
import { discoverClusterCA, pinPattern } from './discovery.js';

export const tokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export interface JoinOptions {
  /** `--server`. */
  server?: string;
  /** `--token`. */
  token?: string;
  /** `--ca-cert-hash` (several may be accepted). */
  caCertHashes: string[];
  /** `--discovery-token-unsafe-skip-ca-verification`. */
  unsafeSkipCAVerification: boolean;
  kubeconfigPath: string;
  bootstrapKubeconfigPath: string;
  log: Logger;
}

/** Every problem with the join flags at once. */
export function validateJoinOptions(o: JoinOptions): string[] {
  const errs: string[] = [];
  if (o.token !== undefined && !tokenPattern.test(o.token))
    errs.push(`--token: the token does not match ${tokenPattern.source}`);
  if (o.server !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(o.server);
    } catch {
      // reported below
    }
    if (url?.protocol !== 'https:') errs.push(`--server: "${o.server}" is not an https:// URL`);
  }
  if (o.token !== undefined && o.server === undefined) errs.push('--server is required with --token');
  for (const h of o.caCertHashes)
    if (!pinPattern.test(h)) errs.push(`--ca-cert-hash: "${h}" is not of the form sha256:<64 hex digits>`);
  if (o.token !== undefined && o.caCertHashes.length === 0 && !o.unsafeSkipCAVerification)
    errs.push(
      '--ca-cert-hash is required to verify the cluster CA; to join without it, pass --discovery-token-unsafe-skip-ca-verification'
    );
  return errs;
}

/** What {@link prepareJoin} did. */
export type JoinResult = { joined: 'already' } | { joined: 'bootstrap'; reason: string; caSource: string };

/**
 * Prepares the node to join, or finds it joined already.
 *
 * @throws Error when the node needs to join and has no token, or when discovery fails (a pin mismatch names both
 *   hashes); nothing is written then.
 */
export async function prepareJoin(o: JoinOptions): Promise<JoinResult> {
  const problem = await clientCertificateProblem(o.kubeconfigPath);
  if (!problem) {
    if (o.token)
      o.log.info({ kubeconfig: o.kubeconfigPath }, 'this node has a valid client certificate; --token is not used');
    return { joined: 'already' };
  }
  if (!o.token || !o.server)
    throw new Error(
      /expired/.test(problem)
        ? `${problem}, while the node was off: it must join again. On the control plane run \`hubspoke token create\`, ` +
            'then run the `hubspoke agent …` command it prints here (with the new --token)'
        : `${problem}: this node has not joined a cluster. On the control plane run \`hubspoke token create\`, ` +
            'then run the `hubspoke agent --server … --token … --ca-cert-hash …` command it prints here'
    );
  const ca = await discoverClusterCA({
    server: o.server,
    token: o.token,
    caCertHashes: o.caCertHashes,
    unsafeSkipCAVerification: o.unsafeSkipCAVerification,
  });
  if (o.unsafeSkipCAVerification && !o.caCertHashes.includes(ca.hash))
    o.log.warn(
      { caCertHash: ca.hash, server: o.server },
      'joining without verifying the cluster CA (--discovery-token-unsafe-skip-ca-verification)'
    );
  o.log.info({ server: o.server, caCertHash: ca.hash, from: ca.source, why: problem }, 'cluster CA verified');
  await mkdir(dirname(o.bootstrapKubeconfigPath), { recursive: true, mode: 0o700 });
  await writeKeyFile(o.bootstrapKubeconfigPath, bootstrapKubeconfig(o.server, ca.caPem, o.token));
  return { joined: 'bootstrap', reason: problem, caSource: ca.source };
}
