import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CriLogWriter, logFilesOf, rfc3339Nano } from './logs.js';

test('rfc3339Nano trims trailing zeros like Go', () => {
  assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 120) + 0.25), '2024-01-02T03:04:05.12025Z');
  assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02T03:04:05Z');
});

test('writes CRI log lines, joins split writes, marks partial lines and rotates by size', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, '0.log');
  const w = new CriLogWriter(path, 1 << 20, 3);
  w.write('stdout', Buffer.from('hel'));
  w.write('stderr', Buffer.from('oops\n'));
  w.write('stdout', Buffer.from('lo\nworld'));
  w.close();
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^\S+Z stderr F oops$/);
  assert.match(lines[1]!, /^\S+Z stdout F hello$/);
  assert.match(lines[2]!, /^\S+Z stdout F world$/); // the unterminated end is written at close

  const big = join(dir, '1.log');
  const r = new CriLogWriter(big, 200, 3);
  for (let i = 0; i < 40; i++) r.write('stdout', Buffer.from(`line ${i} ${'x'.repeat(40)}\n`));
  r.write('stdout', Buffer.from('y'.repeat(20_000)));
  r.close();
  const files = logFilesOf(big);
  assert.equal(files.length, 3, (await readdir(dir)).join(' ')); // two rotated + the current one
  assert.equal(files.at(-1), big);
  const all = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('');
  assert.match(all, / stdout P y{16384}\n/); // a line over 16 KiB is split into partial entries
  assert.match(all, / stdout F y{3616}\n$/);
});
