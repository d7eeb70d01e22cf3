import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendManager, dialHost, parseAgentIdentifiers, parseProxyStrategies, type Backend } from './backends.js';

const backend = (agentID: string, identifiers: string, draining = false): Backend =>
  ({ agentID, identifiers: parseAgentIdentifiers(identifiers), stream: undefined, draining }) as unknown as Backend;

test('agentidentifiers is a URL query; unknown keys are ignored', () => {
  assert.deepEqual(parseAgentIdentifiers('ipv4=10.0.0.5&host=node1&default-route=true&colour=blue'), {
    host: ['node1'],
    ipv4: ['10.0.0.5'],
    ipv6: [],
    cidr: [],
    defaultRoute: true,
  });
});

test('dialHost strips the port, IPv6 brackets included', () => {
  assert.equal(dialHost('10.0.0.5:10250'), '10.0.0.5');
  assert.equal(dialHost('[fd00::1]:10250'), 'fd00::1');
  assert.equal(dialHost('node1:22'), 'node1');
});

test('destHost picks the agent whose identifier matches exactly, else any agent; none → undefined', () => {
  const m = new BackendManager();
  assert.equal(m.pick('10.0.0.5:10250'), undefined);
  const n1 = backend('n1', 'ipv4=10.0.0.5&host=node1');
  const n2 = backend('n2', 'ipv6=fd00::2&host=node2');
  m.add(n1);
  m.add(n2);
  for (let i = 0; i < 20; i++) {
    assert.equal(m.pick('10.0.0.5:10250'), n1);
    assert.equal(m.pick('node2:10250'), n2);
    assert.equal(m.pick('[fd00::2]:10250'), n2);
  }
  assert.ok([n1, n2].includes(m.pick('10.0.0.50:1')!));
  m.remove(n1);
  assert.equal(m.pick('10.0.0.5:10250'), n2);
});

test('the oldest stream of an agent is used; draining agents only when all drain', () => {
  const m = new BackendManager();
  const old = backend('n1', 'host=node1');
  const extra = backend('n1', 'host=node1');
  const drained = backend('n2', 'host=node2', true);
  m.add(old);
  m.add(extra);
  m.add(drained);
  for (let i = 0; i < 20; i++) assert.equal(m.pick('elsewhere:1'), old);
  assert.equal(m.size, 2);
  m.remove(old);
  m.remove(extra);
  assert.equal(m.pick('elsewhere:1'), drained);
});

test('cidr routes a dial by the agent network it falls in; defaultRoute only to agents that offered it', () => {
  const m = new BackendManager(['destHost', 'cidr', 'defaultRoute']);
  const pods1 = backend('n1', 'cidr=10.244.1.0/24&cidr=fd00:1::/64');
  const pods2 = backend('n2', 'cidr=10.244.2.0/24&cidr=bogus');
  const gw = backend('gw', 'default-route=true');
  for (const b of [pods1, pods2, gw]) m.add(b);
  assert.equal(m.pick('10.244.1.7:8080'), pods1);
  assert.equal(m.pick('[fd00:1::9]:8080'), pods1);
  assert.equal(m.pick('10.244.2.200:80'), pods2);
  assert.equal(m.pick('192.0.2.1:443'), gw);
  assert.equal(m.pick('somewhere.example:443'), gw);
  assert.ok(m.ready); // first strategy destHost: any agent
  const strict = new BackendManager(['defaultRoute']);
  strict.add(pods1);
  assert.equal(strict.pick('192.0.2.1:443'), undefined);
  assert.equal(strict.ready, false);
  assert.deepEqual(parseProxyStrategies('destHost,default'), ['destHost', 'default']);
  assert.throws(() => parseProxyStrategies('destHost,nearest'), /unknown proxy strategy "nearest"/);
});
