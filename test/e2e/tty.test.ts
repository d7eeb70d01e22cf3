// Terminals end to end: the real kubectl 1.27 (SPDY), 1.30 and 1.33 (WebSocket first; 1.33 also with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) in a real terminal — tmux, a detached session of a fixed size — against
// one `hubspoke up`. `kubectl exec -it POD -- sh`: the prompt, `stty size` equal to the pane's, again after
// `tmux resize-window`, Ctrl-C reaching only the foreground job, the exit code of `exit 3`. `kubectl attach -i` to
// a stdin container, and `kubectl attach -it` to a TTY container (resized; the terminal closed, the shell left
// running for the next attach).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { eventually } from '../framework/api.js';
import { kubectl, kubectlBinary } from '../framework/kubectl.js';
import { startUp } from '../framework/up.js';

const run = promisify(execFile);

const pod = `
apiVersion: v1
kind: Pod
metadata: { name: term }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - { name: main, image: host, command: [sleep, '3600'] }
  - name: in
    image: host
    stdin: true
    command: [sh, -c, 'while read l; do echo "got $l"; done']
  - { name: tty, image: host, stdin: true, tty: true, command: [sh] }
`;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A tmux server of our own (its own socket), one session per command. */
class Tmux {
  constructor(private readonly socket: string) {}

  async tmux(...args: string[]): Promise<string> {
    return (await run('tmux', ['-S', this.socket, '-f', '/dev/null', ...args])).stdout;
  }

  /** Runs `argv` in a new detached session of `width`x`height`; the shell then prints how it exited. */
  async start(name: string, argv: string[], env: Record<string, string>, width: number, height: number): Promise<void> {
    const cmd = `${Object.entries(env)
      .map(([k, v]) => `${k}=${quote(v)} `)
      .join('')}${argv.map(quote).join(' ')}; echo "EXITED $?"; sleep 600`;
    await this.tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), cmd);
  }

  screen(name: string): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', name);
  }

  /** Waits until the visible pane matches `re`; fails showing the screen. */
  async expect(name: string, re: RegExp, what: string): Promise<string> {
    let last = '';
    try {
      return await eventually(
        what,
        async () => {
          last = await this.screen(name);
          return re.test(last) ? last : undefined;
        },
        20_000
      );
    } catch {
      assert.fail(`${what}: ${re} not on the screen:\n${last}`);
    }
  }

  async type(name: string, text: string): Promise<void> {
    await this.tmux('send-keys', '-t', name, '-l', text);
    await this.tmux('send-keys', '-t', name, 'Enter');
  }

  async keys(name: string, ...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', name, ...keys);
  }

  /**
   * Types `stty size` until it prints the pane's size: a new size travels (SIGWINCH, kubectl, the resize channel)
   * while the shell may already run what was typed.
   */
  async expectSize(name: string, what: string, prefix = ''): Promise<string> {
    const size = await this.size(name);
    const re = new RegExp(`^${prefix}${size}$`, 'm');
    for (let i = 0; ; i++) {
      await this.type(name, `clear; ${prefix ? 'echo pid $$; ' : ''}stty size`);
      try {
        await eventually(what, async () => (re.test(await this.screen(name)) ? true : undefined), 2000);
        return size;
      } catch {
        if (i === 10) assert.fail(`${what}: ${re} not on the screen:\n${await this.screen(name)}`);
      }
    }
  }

  /** The pane's size as `stty size` prints it: rows, then columns. */
  async size(name: string): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', name, '#{pane_height} #{pane_width}')).trim();
  }
}

test('kubectl exec -it and attach in a real terminal, with resize, kubectl 1.27, 1.30, 1.33', async (t) => {
  const up = await startUp(t, { nodeName: 'tty-node' });
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-tty-'));
  const tmux = new Tmux(join(dir, 'tmux.sock'));
  t.after(async () => {
    await tmux.tmux('kill-server').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const k33 = kubectl(33, up.kubeconfigPath);
  await k33.ok(['apply', '-f', '-'], { stdin: pod });
  await k33.ok(['wait', '--for=condition=Ready', 'pod/term', '--timeout=30s']);

  const cases: { minor: number; env: Record<string, string> }[] = [
    { minor: 27, env: {} },
    { minor: 30, env: {} },
    { minor: 33, env: {} },
    { minor: 33, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
  ];
  let n = 0;
  for (const { minor, env } of cases) {
    const what = `kubectl 1.${minor}${Object.keys(env).length ? ' (SPDY forced)' : ''}`;
    const kubectlArgs = (...args: string[]): string[] => [
      kubectlBinary(minor),
      '--kubeconfig',
      up.kubeconfigPath,
      '--cache-dir',
      join(dir, `cache-${minor}`),
      ...args,
    ];

    // exec -it: prompt, size, resize, Ctrl-C, exit code.
    const ex = `exec${n++}`;
    await tmux.start(ex, kubectlArgs('exec', '-it', 'term', '-c', 'main', '--', 'sh'), env, 120, 40);
    await tmux.expect(ex, /^# ?$/m, `${what}: the container shell's prompt (capture-pane trims the space)`);
    const size = await tmux.expectSize(ex, `${what}: stty size is the pane's`);
    await tmux.tmux('resize-window', '-t', ex, '-x', '83', '-y', '27');
    assert.notEqual(await tmux.expectSize(ex, `${what}: stty size after the resize`), size);
    // Ctrl-C only once sleep is the terminal's foreground job: a ^C that reaches the shell while it is still about
    // to fork is swallowed by it, and sleep then runs on. The child prints its marker after the shell has handed it
    // the terminal; the arithmetic keeps the echoed command line from matching.
    await tmux.type(ex, `sh -c 'echo sleeping-$((1+1)); exec sleep 100'`);
    await tmux.expect(ex, /^sleeping-2$/m, `${what}: sleep is the foreground job`);
    await tmux.keys(ex, 'C-c');
    await tmux.type(ex, 'echo still-$((40+2))');
    // (What was typed during sleep is echoed then; the answer may follow the next prompt.)
    await tmux.expect(ex, /still-42$/m, `${what}: Ctrl-C stopped sleep, not the shell`);
    await tmux.type(ex, 'exit 3');
    await tmux.expect(ex, /command terminated with exit code 3\s+EXITED 3/, `${what}: the exit code`);

    // attach -i to a stdin container (no terminal there): a line in, its answer out; Ctrl-C ends kubectl.
    const at = `attach${n++}`;
    await tmux.start(at, kubectlArgs('attach', '-i', 'term', '-c', 'in'), env, 100, 30);
    await tmux.expect(at, /If you don't see a command prompt, try pressing enter\./, `${what}: attach -i`);
    await tmux.type(at, `hello-${minor}`);
    await tmux.expect(at, new RegExp(`^got hello-${minor}$`, 'm'), `${what}: the container read the line`);
    await tmux.keys(at, 'C-c');
    await tmux.expect(at, /EXITED \d+/, `${what}: kubectl attach ends on Ctrl-C`);

    // attach -it to the TTY container: its shell, the pane's size, a resize, detach leaving it running.
    const tt = `tty${n++}`;
    await tmux.start(tt, kubectlArgs('attach', '-it', 'term', '-c', 'tty'), env, 110, 35);
    await tmux.expect(tt, /If you don't see a command prompt, try pressing enter\./, `${what}: attach -it`);
    await tmux.expectSize(tt, `${what}: the container's shell (pid 1), the pane's size`, 'pid 1\\n');
    await tmux.tmux('resize-window', '-t', tt, '-x', '77', '-y', '22');
    await tmux.expectSize(tt, `${what}: attach resized`);
    // There are no detach keys (containerd has none either): closing the terminal ends kubectl, not the shell.
    await tmux.tmux('kill-session', '-t', tt);
  }
  const state = await k33.ok([
    'get',
    'pod',
    'term',
    '-o',
    'jsonpath={.status.containerStatuses[?(@.name=="tty")].restartCount}',
  ]);
  assert.equal(state, '0', 'the TTY container kept running across attaches');
});
