import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore, storePath } from './index.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hubspoke-storage-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

describe('openStore', () => {
  it('openStore - creates <dataDir>/db/state.db in owner-only directories and reopens it', async () => {
    const dataDir = path.join(dir, 'data');
    const store = await openStore(dataDir);
    const kv = await store.create('/registry/namespaces/default', '{}');
    await store.close();
    assert.equal(storePath(dataDir), path.join(dataDir, 'db', 'state.db'));
    assert.equal((await fs.stat(path.join(dataDir, 'db'))).mode & 0o777, 0o700);
    assert.equal((await fs.stat(storePath(dataDir))).mode & 0o777, 0o600);

    await fs.chmod(path.join(dataDir, 'db'), 0o755);
    const reopened = await openStore(dataDir);
    try {
      assert.deepEqual(await reopened.get(kv.key), kv);
      assert.equal((await fs.stat(path.join(dataDir, 'db'))).mode & 0o777, 0o700);
    } finally {
      await reopened.close();
    }
  });
});
