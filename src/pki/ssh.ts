// SSH public keys as OpenSSH writes them (`ssh-ed25519 AAAA… comment`) and their fingerprints as `ssh-keygen -lf`
// prints them (`SHA256:` and the unpadded base64 of the SHA-256 of the key blob). The kubelet publishes its host
// key's fingerprint; the API server's SSH egress dialer compares the key a node's sshd presents against it.
import { createHash } from 'node:crypto';

export interface SSHPublicKey {
  /** The key's algorithm name, e.g. `ssh-ed25519`. */
  type: string;
  /** The wire-format key blob (RFC 4253 §6.6). */
  blob: Buffer;
}

/** `SHA256:<base64, no padding>`, the same string `ssh-keygen -lf` prints. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The key on an OpenSSH public-key line (a `.pub` file, or the key part of a known_hosts line); the blob must
 * carry the same algorithm name as the line, which catches a truncated or mangled key.
 */
export function parseSSHPublicKey(line: string): SSHPublicKey {
  const [type, data] = line.trim().split(/\s+/);
  if (!type || !data) throw new Error('not an OpenSSH public key: want "<type> <base64> [comment]"');
  const blob = Buffer.from(data, 'base64');
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (nameLength < 0 || blob.subarray(4, 4 + nameLength).toString('latin1') !== type)
    throw new Error(`not an OpenSSH public key: the key data does not start with its type "${type}"`);
  return { type, blob };
}

/** The Node annotation carrying its sshd's host key fingerprint, written by the node's own kubelet (--ssh-host-key-file). */
export const sshHostKeyAnnotation = 'hubspoke.io/ssh-host-key';
/** The Node annotation carrying its sshd's port when not the API server's --ssh-port (kubelet --ssh-port). */
export const sshPortAnnotation = 'hubspoke.io/ssh-port';
