// Building the SSH egress dialer from its settings (--ssh-user, --ssh-keyfile, --ssh-port, --ssh-known-hosts, or
// the hubspoke `ssh` transport of --egress-selector-config-file), with the deprecation warning upstream gave.
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../../lib/log.js';
import { SSHDialer, sshDeprecationMessage } from './dialer.js';
import { KnownHosts } from './known-hosts.js';

export { SSHDialer } from './dialer.js';
export { feedNodes } from './nodes.js';

export interface SSHEgressSettings {
  user: string;
  keyFile: string;
  /** @default 22 */
  port?: number;
  knownHostsFile?: string;
}

async function read(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${what} ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
}

/** @throws Error naming the file that cannot be read or used */
export async function newSSHDialer(
  s: SSHEgressSettings,
  ctx: { preferredAddressTypes: readonly string[]; connectTimeoutMs: number; log: Logger }
): Promise<SSHDialer> {
  const privateKey = await read(s.keyFile, '--ssh-keyfile');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey.toString('latin1')))
    throw new Error(`--ssh-keyfile ${JSON.stringify(s.keyFile)}: not a PEM or OpenSSH private key`);
  let knownHosts: KnownHosts | undefined;
  if (s.knownHostsFile) {
    knownHosts = new KnownHosts((await read(s.knownHostsFile, '--ssh-known-hosts')).toString('utf8'));
    for (const skipped of knownHosts.skipped) ctx.log.warn({ file: s.knownHostsFile }, `--ssh-known-hosts ${skipped}`);
  }
  const log = ctx.log.child({ component: 'ssh-egress' });
  log.warn({ user: s.user, port: s.port ?? 22 }, sshDeprecationMessage);
  return new SSHDialer({
    user: s.user,
    privateKey,
    port: s.port ?? 22,
    knownHosts,
    preferredAddressTypes: ctx.preferredAddressTypes,
    connectTimeoutMs: ctx.connectTimeoutMs,
    keepaliveIntervalMs: 10_000,
    keepaliveCountMax: 3,
    backoffInitialMs: 1000,
    backoffMaxMs: 30_000,
    log,
  });
}
