// A real OpenSSH server (Debian openssh-server's /usr/sbin/sshd) for tests and benchmarks: `-D -e -f <config>` on
// a loopback address and a free port, its own generated ed25519 host key, public-key authentication only against
// the authorized keys given, TCP forwarding on (what the SSH egress dialer uses). stop() kills the listener and
// every connection process it forked (they call setsid, so they are found by parent pid, not process group);
// start() brings it back on the same address, port and keys. Everything is killed and removed when the test ends.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const sshdPath = '/usr/sbin/sshd';
const sshKeygenPath = '/usr/bin/ssh-keygen';

type Hook = { after(fn: () => Promise<void>): void };

export interface SSHKeyPair {
  /** The private key file (OpenSSH format, no passphrase). */
  privateKeyFile: string;
  /** `<privateKeyFile>.pub`: `ssh-ed25519 AAAA… comment`. */
  publicKeyFile: string;
  publicKey: string;
  /** As `ssh-keygen -lf` prints it: `SHA256:…`. */
  fingerprint: string;
}

/** An ed25519 key pair made by the real ssh-keygen. */
export async function sshKeyPair(dir: string, name: string): Promise<SSHKeyPair> {
  const privateKeyFile = join(dir, name);
  await promisify(execFile)(sshKeygenPath, ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privateKeyFile]);
  const { stdout } = await promisify(execFile)(sshKeygenPath, ['-l', '-f', `${privateKeyFile}.pub`]);
  return {
    privateKeyFile,
    publicKeyFile: `${privateKeyFile}.pub`,
    publicKey: await readFile(`${privateKeyFile}.pub`, 'utf8'),
    fingerprint: stdout.split(/\s+/)[1]!,
  };
}

export interface TestSshd {
  address: string;
  port: number;
  hostKey: SSHKeyPair;
  /** The sshd's stderr so far (its log, with -e). */
  log(): string;
  /** Kills the listener and its connection processes (SIGKILL: the node's sshd died). */
  stop(): Promise<void>;
  /** Starts it again on the same address, port and keys. */
  start(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Every live descendant of `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * An sshd on `address` (any 127.x.y.z; default 127.0.0.1) accepting `authorizedKeys` (public-key lines) for any
 * user, root included.
 */
export async function startSshd(t: Hook, opts: { address?: string; authorizedKeys: string[] }): Promise<TestSshd> {
  const address = opts.address ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-sshd-'));
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = await sshKeyPair(dir, 'ssh_host_ed25519_key');
  await writeFile(join(dir, 'authorized_keys'), opts.authorizedKeys.map((k) => k.trim()).join('\n') + '\n');
  let port = 0;
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async (): Promise<boolean> => {
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${hostKey.privateKeyFile}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PidFile none',
        // The temp dir is not root-owned 0755 all the way up as StrictModes wants.
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'AllowTcpForwarding yes',
        'LogLevel VERBOSE',
        'MaxStartups 100',
        '',
      ].join('\n')
    );
    const c = spawn(sshdPath, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    return new Promise<boolean>((resolve) => {
      c.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/Server listening on/.test(stderr)) resolve(true);
      });
      c.once('exit', () => resolve(false));
    });
  };

  const start = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const fresh = port === 0;
      if (fresh) port = await freePort(address);
      stderr = '';
      if (await launch()) return;
      // Someone took the port between probe and bind: try another (only while it is still ours to choose).
      if (!fresh || attempt >= 5) throw new Error(`sshd did not start on ${address}:${port}:\n${stderr}`);
      port = 0;
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c?.pid || c.exitCode !== null) return;
    const pids = descendants(c.pid);
    const exited = new Promise((r) => c.once('exit', r));
    kill(c.pid);
    for (const pid of pids) kill(pid);
    await exited;
  };

  await start();
  t.after(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    address,
    get port() {
      return port;
    },
    hostKey,
    log: () => stderr,
    stop,
    start,
  };
}
