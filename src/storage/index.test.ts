import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EtcdStore, SqliteStore, checkStore, openStore, storePath, validateStoreOptions } from './index.js';
import type { Store } from './index.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hubspoke-storage-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

describe('openStore', () => {
  it('openStore - creates <dataDir>/db/state.db in owner-only directories and reopens it', async () => {
    const dataDir = path.join(dir, 'data');
    const store = await openStore({ dataDir });
    const kv = await store.create('/registry/namespaces/default', '{}');
    await store.close();
    assert.equal(storePath(dataDir), path.join(dataDir, 'db', 'state.db'));
    assert.equal((await fs.stat(path.join(dataDir, 'db'))).mode & 0o777, 0o700);
    assert.equal((await fs.stat(storePath(dataDir))).mode & 0o777, 0o600);

    await fs.chmod(path.join(dataDir, 'db'), 0o755);
    const reopened = await openStore({ dataDir });
    try {
      assert.deepEqual(await reopened.get(kv.key), kv);
      assert.equal((await fs.stat(path.join(dataDir, 'db'))).mode & 0o777, 0o700);
    } finally {
      await reopened.close();
    }
  });

  it('openStore - selects etcd when etcd servers are given, SQLite otherwise', async () => {
    const sqlite = await openStore({ dataDir: path.join(dir, 'select'), etcdServers: [] });
    assert.ok(sqlite instanceof SqliteStore);
    await sqlite.close();
    // The etcd client connects on first use, so no cluster is needed to see which backend was chosen.
    const etcd = await openStore({ dataDir: path.join(dir, 'unused'), etcdServers: ['http://127.0.0.1:1'] });
    assert.ok(etcd instanceof EtcdStore);
    await etcd.close();
    await assert.rejects(fs.stat(path.join(dir, 'unused')), { code: 'ENOENT' });
  });
});

describe('validateStoreOptions', () => {
  it('validateStoreOptions - accepts SQLite and a TLS etcd configuration', async () => {
    const file = path.join(dir, 'pem');
    await fs.writeFile(file, '');
    assert.deepEqual(validateStoreOptions({ dataDir: dir }), []);
    assert.deepEqual(
      validateStoreOptions({
        dataDir: dir,
        etcdServers: ['https://127.0.0.1:2379', 'https://localhost:22379'],
        etcdCAFile: file,
        etcdCertFile: file,
        etcdKeyFile: file,
        etcdPrefix: '/hubspoke/registry',
      }),
      []
    );
  });

  it('validateStoreOptions - reports every problem at once, each naming its flag', () => {
    const missing = path.join(dir, 'missing.pem');
    assert.deepEqual(
      validateStoreOptions({
        dataDir: dir,
        etcdServers: ['127.0.0.1:2379', 'https://127.0.0.1', 'http://127.0.0.1:2379'],
        etcdCAFile: missing,
        etcdCertFile: missing,
        etcdPrefix: 'registry/',
      }),
      [
        '--etcd-servers: "127.0.0.1:2379" is not a URL of the form https://host:port',
        '--etcd-servers: "https://127.0.0.1" is not a URL of the form https://host:port',
        '--etcd-servers: all servers must use the same scheme (https or http)',
        `--etcd-cafile: ${missing}: no such file`,
        `--etcd-certfile: ${missing}: no such file`,
        '--etcd-certfile and --etcd-keyfile must be given together',
        '--etcd-prefix: "registry/" must start with "/" and not end with one',
      ]
    );
    assert.deepEqual(validateStoreOptions({ dataDir: dir, etcdKeyFile: missing }), [
      '--etcd-keyfile: only meaningful with --etcd-servers',
      '--etcd-certfile and --etcd-keyfile must be given together',
    ]);
  });
});

describe('checkStore', () => {
  it('checkStore - passes on a working store and fails within its timeout on one that hangs', async () => {
    const store = await openStore({ dataDir: path.join(dir, 'check') });
    try {
      await checkStore(store);
    } finally {
      await store.close();
    }
    const hanging = { currentRevision: () => new Promise<number>(() => undefined) } as unknown as Store;
    const started = Date.now();
    await assert.rejects(checkStore(hanging, 50), /storage did not answer within 50 ms/);
    assert.ok(Date.now() - started < 1000);
  });
});
