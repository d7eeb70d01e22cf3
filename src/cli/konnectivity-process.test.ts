// `hubspoke konnectivity-server` and `hubspoke konnectivity-agent` as processes with upstream's flags (mTLS agent
// auth): traffic flows through the gRPC frontend; kill -9 of the server → the agent reconnects to its restart
// within 2 s; health, readiness and metrics answer; the first SIGTERM drains the agent and the second stops it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../../test/framework/api.js';
import { freePort } from '../../test/framework/etcd.js';
import { PacketType } from '../konnectivity/proto/packet.js';
import { dialThrough, grpcFrontend, listen, testPKI } from '../konnectivity/testing.js';

const mainScript = fileURLToPath(new URL('./main.ts', import.meta.url));

function start(t: TestContext, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HUBSPOKE_LOG_FORMAT: 'json' },
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

test('konnectivity-server and konnectivity-agent processes: proxying, kill -9 and reconnect, health, drain', async (t) => {
  const pki = await testPKI();
  const dir = mkdtempSync(join(tmpdir(), 'konnectivity-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const agentCert = await pki.client('node1');
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  t.after(() => echo.close());
  const [agentPort, serverHealth, agentHealth] = [await freePort(), await freePort(), await freePort()];
  const uds = join(dir, 'konnectivity.socket');
  const serverArgs = [
    'konnectivity-server',
    `--uds-name=${uds}`,
    '--server-port=0',
    `--agent-port=${agentPort}`,
    '--agent-bind-address=127.0.0.1',
    `--cluster-cert=${file('server.crt', pki.serverTLS.cert)}`,
    `--cluster-key=${file('server.key', pki.serverTLS.key)}`,
    `--cluster-ca-cert=${file('ca.crt', pki.ca.cert)}`,
    `--health-port=${serverHealth}`,
    '--health-bind-address=127.0.0.1',
    '--server-id=server-1',
  ];
  let server = start(t, serverArgs);
  const agent = start(t, [
    'konnectivity-agent',
    '--proxy-server-host=127.0.0.1',
    `--proxy-server-port=${agentPort}`,
    `--ca-cert=${join(dir, 'ca.crt')}`,
    `--agent-cert=${file('agent.crt', agentCert.cert)}`,
    `--agent-key=${file('agent.key', agentCert.key)}`,
    '--agent-id=node1',
    '--agent-identifiers=host=node1&ipv4=127.0.0.1',
    `--allowed-destination=127.0.0.1:${echoPort}`,
    '--health-server-host=127.0.0.1',
    `--health-server-port=${agentHealth}`,
    // The restart takes seconds under load; with upstream's 10 s cap the backoff could outgrow the 2 s bound.
    '--sync-interval-cap=1s',
  ]);
  await eventually(
    'server ready',
    async () => ((await get(serverHealth, '/readyz')).status === 200 ? true : undefined),
    30_000
  );
  assert.equal((await get(serverHealth, '/healthz')).body, 'ok');
  await eventually(
    'agent ready',
    async () => ((await get(agentHealth, '/readyz')).status === 200 ? true : undefined),
    30_000
  );

  const echoes = async (random: bigint): Promise<void> => {
    const frontend = grpcFrontend(uds);
    try {
      const c = await dialThrough(frontend, `127.0.0.1:${echoPort}`, random);
      c.stream.write({ type: PacketType.DATA, data: { connectID: c.connectID, error: '', data: Buffer.from('hi') } });
      const p = await c.next();
      assert.equal(p.type === PacketType.DATA && p.data.data.toString(), 'hi');
      c.stream.cancel();
    } finally {
      frontend.client.close();
    }
  };
  await echoes(1n);
  const metrics = (await get(agentHealth, '/metrics')).body;
  assert.match(metrics, /^konnectivity_network_proxy_agent_open_server_connections 1$/m);
  assert.match(
    (await get(serverHealth, '/metrics')).body,
    /^konnectivity_network_proxy_server_agent_open_connections\{agent_id="node1"\} \d+$/m
  );

  // kill -9 the server and start it again on the same ports: the agent is back within 2 s of the restart.
  server.child.kill('SIGKILL');
  await server.exited;
  await eventually('agent notices', async () =>
    (await get(agentHealth, '/readyz')).status === 503 ? true : undefined
  );
  assert.match((await get(agentHealth, '/readyz')).body, /no servers connected/);
  server = start(t, serverArgs);
  await eventually(
    'restarted server listening',
    async () => ((await get(serverHealth, '/healthz')).status === 200 ? true : undefined),
    30_000
  );
  const restarted = Date.now();
  await eventually(
    'agent reconnected',
    async () => ((await get(serverHealth, '/readyz')).status === 200 ? true : undefined),
    2000
  );
  t.diagnostic(`agent reconnected ${Date.now() - restarted} ms after the restarted server listened`);
  await echoes(2n);

  // First SIGTERM: drain (still serving, still running); second: stop.
  agent.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(agent.child.exitCode, null);
  await echoes(3n); // drained, but the only agent
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
