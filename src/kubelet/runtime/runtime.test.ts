// The runtime with real bubblewrap: the sandbox's view of the host, exec, attach, stop, start errors, and
// adoption of running containers by a new Runtime on the same root dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../lib/log.js';
import { AttachFrame, AttachFrameDecoder, encodeAttachFrame, encodeResizeFrame } from './attach.js';
import { isRunning, Runtime, type ContainerRequest } from './runtime.js';
import { onTerminalData, onTerminalExit } from './terminal.js';
import { processAlive } from './state.js';

async function setUp(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'hubspoke-rt-'));
  const runtimes: Runtime[] = [];
  const make = async () => {
    const rt = new Runtime(root, silentLogger);
    await rt.load();
    runtimes.push(rt);
    return rt;
  };
  t.after(async () => {
    for (const rt of runtimes)
      for (const pid of rt.shimPids())
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
    // A runtime records a killed shim's death (state.json) while the directory goes: retry as rm -rf would.
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  });
  let n = 0;
  const req = (command: string[], more: Partial<ContainerRequest> = {}): ContainerRequest => ({
    podUID: 'uid-1',
    podNamespace: 'default',
    podName: 'pod-1',
    containerName: `c${n}`,
    attempt: 0,
    image: 'busybox',
    command,
    env: { PATH: '/usr/bin:/bin' },
    hostname: 'pod-1',
    mounts: [],
    logPath: join(root, 'logs', `c${n++}`, '0.log'),
    logMaxSize: 1 << 20,
    logMaxFiles: 5,
    stdin: false,
    stdinOnce: false,
    tty: false,
    ...more,
  });
  return { root, make, req };
}

async function waitExit(rt: Runtime, c: Parameters<Runtime['refresh']>[0]): Promise<void> {
  for (let i = 0; i < 200 && isRunning(c); i++) {
    await new Promise((r) => setTimeout(r, 25));
    await rt.relist();
  }
}

test('a sandbox sees the host read-only, its own /tmp and host name, and volumes where the host has no directory', async (t) => {
  const { root, make, req } = await setUp(t);
  const rt = await make();
  const vol = join(root, 'vol');
  await mkdir(vol);
  await writeFile(join(vol, 'greeting'), 'hello\n');
  const script = [
    'cat /etc/hubspoke-test-config/greeting',
    'hostname',
    'touch /usr/hubspoke-test 2>/dev/null && echo host-writable || echo host-ro',
    'touch /etc/hubspoke-test-config/x 2>/dev/null && echo vol-writable || echo vol-ro',
    'echo tmp > /tmp/t && cat /tmp/t',
    'test -f /etc/os-release && echo etc-kept',
    'pwd',
  ].join('; ');
  const c = await rt.start(
    req(['/bin/sh', '-c', script], {
      mounts: [{ hostPath: vol, containerPath: '/etc/hubspoke-test-config', readOnly: true }],
      workingDir: '/work/here',
    })
  );
  await waitExit(rt, c);
  assert.equal(c.state.exitCode, 0);
  assert.equal(c.state.reason, 'Completed');
  const out = (await readFile(c.config.logPath, 'utf8')).split('\n').map((l) => l.replace(/^\S+ stdout F /, ''));
  assert.deepEqual(out.slice(0, 7), ['hello', 'pod-1', 'host-ro', 'vol-ro', 'tmp', 'etc-kept', '/work/here']);
});

test('exec joins the sandbox, attach reaches stdio, stop escalates to SIGKILL, and a new runtime adopts', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(
    req(['/bin/sh', '-c', 'trap "" TERM; echo ready; while read l; do echo "got $l"; done; sleep 1000'], {
      stdin: true,
    })
  );
  assert.ok(isRunning(c) && c.state.pid);

  const p = rt.exec(c, ['/bin/sh', '-c', 'echo $$ $(hostname); exit 5']);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await new Promise((r) => p.on('close', r)), 5);
  const [pid, host] = out.trim().split(' ');
  assert.ok(Number(pid) > 1 && Number(pid) < 50, `pid ${pid} is in the sandbox's namespace`);
  assert.equal(host, 'pod-1');

  const s = rt.attach(c);
  const frames: string[] = [];
  const decoder = new AttachFrameDecoder((type, data) => frames.push(`${type}:${data.toString()}`));
  s.on('data', (d: Buffer) => decoder.write(d));
  await new Promise((r) => s.once('connect', r));
  s.write(encodeAttachFrame(AttachFrame.Stdin, Buffer.from('ping\n')));
  for (let i = 0; i < 100 && !frames.join('').includes('got ping'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(frames, ['1:got ping\n']);
  s.destroy();

  // A kubelet restart: a new Runtime finds the same running container by its records.
  const again = await make();
  const adopted = again.get(c.config.id)!;
  assert.ok(adopted && isRunning(adopted));
  assert.equal(adopted.state.pid, c.state.pid);
  const t0 = Date.now();
  await again.stop(adopted, 500); // SIGTERM is ignored (a handler of "") and pid 1 has no default action
  assert.ok(Date.now() - t0 >= 500);
  assert.equal(adopted.state.exitCode, 137);
  assert.ok(!processAlive(c.state.pid));
});

test('a program that does not exist is a StartError with exit code 128', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(req(['no-such-program-here']));
  await waitExit(rt, c);
  assert.equal(c.state.exitCode, 128);
  assert.equal(c.state.reason, 'StartError');
  assert.equal(c.state.message, 'exec: "no-such-program-here": executable file not found in $PATH');
});

/** Waits until `read()` matches `re` (output from a terminal arrives in pieces). */
async function until(read: () => string, re: RegExp, what: string): Promise<void> {
  for (let i = 0; i < 250 && !re.test(read()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(read(), re, what);
}

test('exec on a terminal: a prompt, the size given and then resized, Ctrl-C, the exit code', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(req(['sleep', '1000']));
  const term = rt.execTerminal(c, ['/bin/sh'], { width: 91, height: 17 });
  let out = '';
  onTerminalData(term, (d) => (out += d.toString()));
  const code = new Promise<number>((r) => onTerminalExit(term, r));
  await until(() => out, /# $/, 'a root prompt');
  term.write('stty size; echo $TERM; sleep 100\r');
  await until(() => out, /17 91\r\nxterm\r\n/, 'the size and TERM');
  term.write('\x03'); // the terminal's interrupt reaches the foreground job only: the shell stays
  term.resize(40, 12);
  term.write('stty size; exit 3\r');
  await until(() => out, /12 40\r\n/, 'the new size');
  assert.equal(await code, 3);
});

test('a program exec cannot run on a terminal: setsid says so, exit code 127', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(req(['sleep', '1000']));
  const term = rt.execTerminal(c, ['no-such-program']);
  let out = '';
  onTerminalData(term, (d) => (out += d.toString()));
  assert.equal(await new Promise<number>((r) => onTerminalExit(term, r)), 127);
  assert.match(out, /^setsid: failed to execute no-such-program: No such file or directory/);
});

test('a TTY container runs on a terminal its shim holds: attach types into it and resizes it', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(req(['/bin/sh'], { tty: true, stdin: true }));
  assert.ok(isRunning(c) && c.state.pid, 'started, with the pid found without --info-fd');
  let out = '';
  const s = rt.attach(c);
  const frames = new AttachFrameDecoder((type, data) => {
    assert.equal(type, AttachFrame.Stdout, 'a terminal has one output');
    out += data.toString();
  });
  s.on('data', (d: Buffer) => frames.write(d));
  s.write(encodeResizeFrame({ width: 66, height: 22 }));
  s.write(encodeAttachFrame(AttachFrame.Stdin, Buffer.from('echo pid $$; stty size; exit 4\r')));
  await until(() => out, /pid 1\r\n22 66\r\n/, 'the shell is pid 1 and sees the size');
  await waitExit(rt, c);
  assert.equal(c.state.exitCode, 4);
  const log = await readFile(c.config.logPath, 'utf8');
  assert.match(log, / stdout [PF] 22 66/);
});

test('a TTY container whose program does not exist is a StartError with exit code 128', async (t) => {
  const { make, req } = await setUp(t);
  const rt = await make();
  const c = await rt.start(req(['no-such-program-here'], { tty: true }));
  await waitExit(rt, c);
  assert.deepEqual([c.state.exitCode, c.state.reason], [128, 'StartError']);
  assert.equal(c.state.message, 'exec: "no-such-program-here": executable file not found in $PATH');
});
