// The agent's server set against real servers behind a TCP relay (an L4 load balancer): --server-count 2 is held,
// either server carries traffic, a restarted one is found again, a killed server is reconnected to within 2 s, and
// a half-dead link (no FIN, no RST) is detected by keepalives on both sides and removed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/framework/api.js';
import { AgentClientSet, type AgentClientSetOptions } from './agent/clientset.js';
import { allowList } from './agent/allow-list.js';
import { PacketType } from './proto/packet.js';
import { ProxyServer, type ProxyServerOptions } from './server/server.js';
import { dialThrough, grpcFrontend, listen, testPKI, TcpRelay } from './testing.js';

async function setup(t: TestContext) {
  const pki = await testPKI();
  const dir = mkdtempSync(join(tmpdir(), 'konnectivity-ha-'));
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  const servers = new Set<ProxyServer>();
  const frontends: ReturnType<typeof grpcFrontend>[] = [];
  /** A server with its agent port (fixed when given: a restart comes back on the same port) and UDS. */
  const startServer = async (id: string, o: Partial<ProxyServerOptions> = {}, agentPort = 0) => {
    const server = new ProxyServer({ serverID: id, serverCount: 2, authenticateAgent: async () => {}, ...o });
    servers.add(server);
    const port = await server.listenAgents(`127.0.0.1:${agentPort}`, pki.serverTLS);
    const uds = join(dir, `${id}.socket`);
    await server.listenFrontend(uds);
    const frontend = grpcFrontend(uds);
    frontends.push(frontend);
    return { server, port, frontend, stop: () => (server.close(), servers.delete(server)) };
  };
  const agents: AgentClientSet[] = [];
  const startAgent = (serverPort: number, o: Partial<AgentClientSetOptions> = {}) => {
    const a = new AgentClientSet({
      serverAddress: `127.0.0.1:${serverPort}`,
      caCert: pki.ca.cert,
      serverName: 'konnectivity-server',
      agentID: 'node1',
      agentIdentifiers: 'host=node1',
      token: () => 'token',
      allow: allowList([`127.0.0.1:${echoPort}`]),
      syncIntervalMs: 200,
      syncIntervalCapMs: 1000,
      ...o,
    });
    agents.push(a);
    a.start();
    return a;
  };
  t.after(async () => {
    for (const a of agents) await a.stop();
    for (const f of frontends) f.client.close();
    for (const s of servers) s.close();
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pki, echoPort, startServer, startAgent };
}

async function echoes(frontend: ReturnType<typeof grpcFrontend>, echoPort: number, random: bigint): Promise<void> {
  const c = await dialThrough(frontend, `127.0.0.1:${echoPort}`, random);
  c.stream.write({ type: PacketType.DATA, data: { connectID: c.connectID, error: '', data: Buffer.from('ping') } });
  const p = await c.next();
  assert.equal(p.type, PacketType.DATA);
  if (p.type === PacketType.DATA) assert.equal(p.data.data.toString(), 'ping');
  c.stream.cancel();
}

const sorted = (a: string[]) => [...a].sort();

test('server-count 2 behind one address: the agent holds both, either carries traffic, a restarted one is found again', async (t) => {
  const { echoPort, startServer, startAgent } = await setup(t);
  const a = await startServer('server-a');
  const b = await startServer('server-b');
  const lb = new TcpRelay([a.port, b.port]);
  t.after(() => lb.close());
  const agent = startAgent(await lb.listen());
  await eventually('both servers held', async () =>
    sorted(agent.serverIDs).join() === 'server-a,server-b' ? true : undefined
  );
  assert.equal(agent.serverCount, 2);
  await echoes(a.frontend, echoPort, 1n);
  await echoes(b.frontend, echoPort, 2n);

  // server-b restarts (a new ID, as a new pod would have) on the same port.
  b.stop();
  await eventually('server-b dropped', async () => (agent.serverIDs.includes('server-b') ? undefined : true));
  const b2 = await startServer('server-b2', {}, b.port);
  await eventually('the restarted server found again', async () =>
    sorted(agent.serverIDs).join() === 'server-a,server-b2' ? true : undefined
  );
  await echoes(b2.frontend, echoPort, 3n);
  await echoes(a.frontend, echoPort, 4n);
});

test('the server is killed: the agent reconnects within 2 s of it coming back, and traffic flows again', async (t) => {
  const { echoPort, startServer, startAgent } = await setup(t);
  const s = await startServer('server-1', { serverCount: 1 });
  const agent = startAgent(s.port, { syncIntervalMs: 1000, syncIntervalCapMs: 10_000 }); // upstream's defaults
  await eventually('connected', async () => (agent.ready ? true : undefined));
  const killed = Date.now();
  s.stop();
  const s2 = await startServer('server-2', { serverCount: 1 }, s.port);
  await eventually('reconnected', async () => (agent.serverIDs.includes('server-2') ? true : undefined), 2000);
  t.diagnostic(`reconnected ${Date.now() - killed} ms after the kill`);
  await echoes(s2.frontend, echoPort, 5n);
});

test('a half-dead link (bytes stop, nothing closes) is detected by keepalives on both sides and removed', async (t) => {
  const { startServer, startAgent } = await setup(t);
  const keepalive = { keepaliveTimeMs: 1000, keepaliveTimeoutMs: 1000 };
  const s = await startServer('server-1', { serverCount: 1, ...keepalive });
  const relay = new TcpRelay([s.port]);
  t.after(() => relay.close());
  const agent = startAgent(await relay.listen(), { ...keepalive, syncForever: false, connectTimeoutMs: 2000 });
  await eventually('connected', async () => (s.server.readyBackends === 1 && agent.ready ? true : undefined));
  relay.frozen = true;
  const frozen = Date.now();
  await eventually('server removed the agent', async () => (s.server.readyBackends === 0 ? true : undefined), 8000);
  await eventually('agent dropped the server', async () => (agent.ready ? undefined : true), 8000);
  t.diagnostic(`both sides gave up ${Date.now() - frozen} ms after the link froze`);
  relay.frozen = false;
  await eventually('reconnected over a fresh connection', async () => (agent.ready ? true : undefined), 8000);
});

test('drain: the agent sends DRAIN, the server prefers another agent but still uses a drained one when alone', async (t) => {
  const { echoPort, startServer, startAgent } = await setup(t);
  const s = await startServer('server-1', { serverCount: 1 });
  const one = startAgent(s.port, { agentID: 'node1', agentIdentifiers: '' });
  await eventually('connected', async () => (one.ready ? true : undefined));
  one.drain();
  await echoes(s.frontend, echoPort, 6n); // drained, but the only agent
  const two = startAgent(s.port, { agentID: 'node2', agentIdentifiers: '' });
  await eventually('second agent', async () => (s.server.readyBackends === 2 ? true : undefined));
  for (let i = 0; i < 10; i++) await echoes(s.frontend, echoPort, 100n + BigInt(i));
  await eventually('endpoint connections closed', async () =>
    one.openConnections + two.openConnections === 0 ? true : undefined
  );
  const drained = (
    await s.server.metrics.registry
      .getSingleMetric('konnectivity_network_proxy_server_agent_dial_duration_seconds')!
      .get()
  ).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
  const count = (id: string) => drained.find((v) => v.labels.agent_id === id)?.value ?? 0;
  assert.equal(count('node1'), 1, 'the drained agent got only the dial made while it was alone');
  assert.equal(count('node2'), 10);
});
