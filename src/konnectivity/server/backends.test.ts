import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendManager, dialHost, parseAgentIdentifiers, type Backend } from './backends.js';

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
