import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subresourcesFor, verbFor } from './auth.js';

test('paths map to node subresources as upstream 1.33 (fine-grained first, proxy as the fallback)', () => {
  const cases: [string, string[]][] = [
    ['/stats/summary', ['stats']],
    ['/stats', ['stats']],
    ['/metrics/cadvisor', ['metrics']],
    ['/logs/', ['log']],
    ['/checkpoint/ns/p/c', ['checkpoint']],
    ['/pods', ['pods', 'proxy']],
    ['/runningpods/', ['pods', 'proxy']],
    ['/healthz/ping', ['healthz', 'proxy']],
    ['/configz', ['configz', 'proxy']],
    ['/exec/ns/p/c', ['proxy']],
    ['/containerLogs/ns/p/c', ['proxy']],
    ['/statsfoo', ['proxy']], // a prefix only counts when followed by '/'
    ['/spec/', ['proxy']],
  ];
  for (const [path, want] of cases) assert.deepEqual(subresourcesFor(path), want, path);
});

test('methods map to verbs; others to ""', () => {
  assert.deepEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map(verbFor), [
    'get',
    'get',
    'create',
    'update',
    'patch',
    'delete',
    '',
  ]);
});
