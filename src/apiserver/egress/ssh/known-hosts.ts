// --ssh-known-hosts: an OpenSSH known_hosts file (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT") pinning nodes' host keys
// by the name the API server connects to: the address alone for port 22, `[address]:port` otherwise, or the node
// name. Plain, wildcard (`*`, `?`), negated (`!`) and hashed (`|1|salt|hmac`) patterns are understood;
// `@revoked` keys are refused even if another line lists them; `@cert-authority` lines are not supported and
// are skipped with a warning (hubspoke pins keys, not CAs).
import { createHmac } from 'node:crypto';
import { parseSSHPublicKey, sshFingerprint, type SSHPublicKey } from '../../../pki/index.js';

interface Entry {
  patterns: string[];
  key: SSHPublicKey;
  revoked: boolean;
}

export class KnownHosts {
  readonly #entries: Entry[];
  /** Lines that could not be used, for the start-up log. */
  readonly skipped: string[] = [];

  constructor(text: string) {
    this.#entries = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      let revoked = false;
      if (fields[0]!.startsWith('@')) {
        const marker = fields.shift()!;
        if (marker === '@cert-authority')
          return void this.skipped.push(`line ${i + 1}: @cert-authority is not supported`);
        if (marker !== '@revoked') return void this.skipped.push(`line ${i + 1}: unknown marker ${marker}`);
        revoked = true;
      }
      try {
        const key = parseSSHPublicKey(fields.slice(1).join(' '));
        this.#entries.push({ patterns: fields[0]!.split(','), key, revoked });
      } catch (err) {
        this.skipped.push(`line ${i + 1}: ${(err as Error).message}`);
      }
    });
  }

  /** The accepted keys' fingerprints for any of `names` (e.g. `[10.0.0.5]:2222` and `node-1`), revoked ones left out. */
  fingerprints(names: readonly string[]): Set<string> {
    const matching = this.#entries.filter((e) => names.some((n) => matches(e.patterns, n)));
    const revoked = new Set(matching.filter((e) => e.revoked).map((e) => sshFingerprint(e.key.blob)));
    return new Set(
      matching
        .filter((e) => !e.revoked)
        .map((e) => sshFingerprint(e.key.blob))
        .filter((f) => !revoked.has(f))
    );
  }
}

/** The name ssh(1) looks a host up by. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matches(patterns: readonly string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchOne(p.slice(1), name)) return false;
    } else if (matchOne(p, name)) hit = true;
  }
  return hit;
}

function matchOne(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [salt, hash] = pattern.slice(3).split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  const re = pattern
    .replace(/[.+^${}()[\]\\|]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
