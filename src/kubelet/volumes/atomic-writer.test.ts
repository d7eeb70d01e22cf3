import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeAtomically, type FileProjection } from './atomic-writer.js';

const payload = (o: Record<string, [string, number]>): Map<string, FileProjection> =>
  new Map(Object.entries(o).map(([k, [d, mode]]) => [k, { data: Buffer.from(d), mode }]));

test('writes through a ..data symlink swap, with modes, and removes what the new payload lacks', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await writeAtomically(dir, payload({ token: ['t1', 0o600], 'sub/ca.crt': ['ca', 0o644] })), true);
  const first = await readlink(join(dir, '..data'));
  assert.match(first, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[0-9a-f]+$/);
  assert.equal(await readlink(join(dir, 'token')), '..data/token');
  assert.equal(await readlink(join(dir, 'sub')), '..data/sub');
  assert.equal(await readFile(join(dir, 'sub/ca.crt'), 'utf8'), 'ca');
  assert.equal((await lstat(join(dir, first, 'token'))).mode & 0o777, 0o600);

  assert.equal(await writeAtomically(dir, payload({ token: ['t1', 0o600], 'sub/ca.crt': ['ca', 0o644] })), false);
  assert.equal(await readlink(join(dir, '..data')), first, 'an unchanged payload is not rewritten');

  assert.equal(await writeAtomically(dir, payload({ token: ['t2', 0o644] })), true);
  assert.equal(await readFile(join(dir, 'token'), 'utf8'), 't2');
  assert.deepEqual(
    (await readdir(dir)).filter((n) => !n.startsWith('..')),
    ['token']
  );
  assert.ok(!(await readdir(dir)).includes(first), 'the old timestamped directory is gone');
  await assert.rejects(writeAtomically(dir, payload({ '../escape': ['x', 0o644] })), /must not contain '\.\.'/);
});
