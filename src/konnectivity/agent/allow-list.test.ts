import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowList } from './allow-list.js';

test('an empty allow-list allows nothing', () => {
  assert.equal(allowList([])('127.0.0.1', 10250), false);
});

test('host:port, host:* and [v6]:port entries; hosts compare exactly', () => {
  const allow = allowList(['10.0.0.5:10250', '10.244.1.7:*', '[FD00::1]:8080']);
  assert.equal(allow('10.0.0.5', 10250), true);
  assert.equal(allow('10.0.0.5', 10251), false);
  assert.equal(allow('10.244.1.7', 1), true);
  assert.equal(allow('10.244.1.70', 1), false);
  assert.equal(allow('fd00::1', 8080), true);
  assert.equal(allow('node1', 10250), false);
});

test('malformed entries are rejected when the list is built', () => {
  assert.throws(() => allowList(['10.0.0.5']), /want host:port/);
  assert.throws(() => allowList(['fd00::1:80']), /want host:port/);
});
