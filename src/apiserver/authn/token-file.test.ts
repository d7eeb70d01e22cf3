// --token-auth-file: upstream's CSV columns, quoting and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../lib/log.js';
import { parseCSVLine, parseTokenFile, tokenFileAuthenticator } from './token-file.js';

describe('token file', () => {
  it('parses token,user,uid,"groups" with quotes and leading spaces', () => {
    assert.deepEqual(parseCSVLine('t1,alice,42,"dev,ops"'), ['t1', 'alice', '42', 'dev,ops']);
    assert.deepEqual(parseCSVLine('t2, bob , 7'), ['t2', 'bob ', '7']);
    assert.deepEqual(parseCSVLine('"a""b",c,d'), ['a"b', 'c', 'd']);
    assert.throws(() => parseCSVLine('"open,x,y'), /quoted-field/);
  });

  it('authenticates a listed token and ignores others; fewer than 3 columns is fatal', async () => {
    const tokens = parseTokenFile('t1,alice,42,"dev,ops"\n\n,nobody,1\nt2,bob,7\n', 'f.csv', silentLogger);
    const a = tokenFileAuthenticator(tokens);
    assert.deepEqual(await a.authenticateToken('t1', ['api']), {
      user: { name: 'alice', uid: '42', groups: ['dev', 'ops'] },
      audiences: ['api'],
    });
    assert.deepEqual((await a.authenticateToken('t2', ['api']))?.user.groups, []);
    assert.equal(await a.authenticateToken('t3', ['api']), null);
    assert.throws(() => parseTokenFile('t1,alice\n', 'f.csv', silentLogger), /at least 3 columns/);
  });
});
