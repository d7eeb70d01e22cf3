// What the node publishes about its sshd for the API server's SSH egress dialer (hubspoke extension, issue 9): the
// host key's fingerprint (`--ssh-host-key-file`, e.g. /etc/ssh/ssh_host_ed25519_key.pub) and, when not the
// cluster's default, its port (`--ssh-port`). Written under the node's own identity; NodeRestriction lets no one
// else set them, so the API server can pin the host key without trusting the first connection.
import { readFile } from 'node:fs/promises';
import { parseSSHPublicKey, sshFingerprint, sshHostKeyAnnotation, sshPortAnnotation } from '../../pki/index.js';

/** @throws Error naming the file when it cannot be read or is not an OpenSSH public key */
export async function sshAnnotations(o: {
  sshHostKeyFile?: string;
  sshPort?: number;
}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (o.sshHostKeyFile) {
    try {
      const key = parseSSHPublicKey(await readFile(o.sshHostKeyFile, 'utf8'));
      out[sshHostKeyAnnotation] = sshFingerprint(key.blob);
    } catch (err) {
      throw new Error(`--ssh-host-key-file ${JSON.stringify(o.sshHostKeyFile)}: ${(err as Error).message}`);
    }
  }
  if (o.sshPort !== undefined) out[sshPortAnnotation] = String(o.sshPort);
  return out;
}
