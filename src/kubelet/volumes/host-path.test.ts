import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setUpHostPath } from './host-path.js';

test('hostPath: type checks name the path; the …OrCreate types create it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'host-path-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  await writeFile(file, 'x');

  assert.equal(await setUpHostPath({ path: dir, type: 'Directory' }), dir);
  assert.equal(await setUpHostPath({ path: file }), file);
  await assert.rejects(setUpHostPath({ path: file, type: 'Directory' }), {
    message: `hostPath ${file} is not a directory (type Directory)`,
  });
  await assert.rejects(setUpHostPath({ path: dir, type: 'File' }), /is not a file/);
  await assert.rejects(setUpHostPath({ path: join(dir, 'nope') }), {
    message: `hostPath ${join(dir, 'nope')} does not exist`,
  });
  await assert.rejects(setUpHostPath({ path: 'relative' }), /not an absolute path/);
  await assert.rejects(setUpHostPath({ path: dir, type: 'Pipe' }), /type "Pipe" is not supported/);

  const made = join(dir, 'a', 'b');
  await setUpHostPath({ path: made, type: 'DirectoryOrCreate' });
  assert.ok((await stat(made)).isDirectory());
  const madeFile = join(dir, 'g');
  await setUpHostPath({ path: madeFile, type: 'FileOrCreate' });
  assert.ok((await stat(madeFile)).isFile());
});
