// The runtime with real bubblewrap: the sandbox's view of the host, exec, attach, stop, start errors, and
// adoption of running containers by a new Runtime on the same root dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../lib/log.js';
import { isRunning, Runtime, type ContainerRequest } from './runtime.js';
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
    await rm(root, { recursive: true, force: true });
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
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      frames.push(`${buf[0]}:${buf.subarray(5, 5 + buf.readUInt32BE(1)).toString()}`);
      buf = buf.subarray(5 + buf.readUInt32BE(1));
    }
  });
  await new Promise((r) => s.once('connect', r));
  s.write('ping\n');
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
