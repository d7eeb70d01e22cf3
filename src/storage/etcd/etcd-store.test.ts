import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster } from '../../../test/framework/etcd.js';
import { runStorageConformance } from '../conformance.js';
import { isStorageError } from '../interface.js';
import { EtcdStore } from './etcd-store.js';

// One three-member cluster for the file; each case gets an empty store of its own under a fresh --etcd-prefix.
// The cases run one after another, so the revisions a case sees are its own writes.
const cluster = await startEtcdCluster({ after });
let stores = 0;

function openTestStore(prefix = `/conformance-${stores++}`, watchQueueLimit?: number): Promise<EtcdStore> {
  return EtcdStore.open({
    watchQueueLimit,
    servers: cluster.endpoints,
    caFile: cluster.caFile,
    certFile: cluster.certFile,
    keyFile: cluster.keyFile,
    prefix,
  });
}

runStorageConformance('etcd', async () => {
  const store = await openTestStore();
  return { store, cleanup: () => store.close() };
});

describe('EtcdStore', () => {
  it('keys - /registry/<resource>/<ns>/<name> is <--etcd-prefix>/<resource>/<ns>/<name> in etcd, value the JSON', async () => {
    const prefix = `/hubspoke-${stores++}`;
    const store = await openTestStore(prefix);
    const raw = new Etcd3({
      hosts: cluster.endpoints,
      credentials: {
        rootCertificate: await readFile(cluster.caFile),
        certChain: await readFile(cluster.certFile),
        privateKey: await readFile(cluster.keyFile),
      },
    });
    try {
      const kv = await store.create('/registry/pods/default/web', '{"kind":"Pod"}');
      const stored = await raw.get(`${prefix}/pods/default/web`).exec();
      assert.equal(stored.kvs[0]?.value.toString(), '{"kind":"Pod"}');
      assert.equal(Number(stored.kvs[0]?.mod_revision), kv.modRevision);
      // Another prefix (another cluster sharing the etcd) is invisible, also to a list or watch of everything.
      await raw.put('/elsewhere/pods/default/web').value('{}');
      assert.deepEqual(
        (await store.list('')).items.map((i) => i.key),
        ['/registry/pods/default/web']
      );
      const watch = store.watch('', { afterRevision: kv.modRevision - 1 });
      const first = await watch[Symbol.asyncIterator]().next();
      assert.deepEqual(first.value, { type: 'put', kv });
      watch.close();
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('compactedRevision - finds a compaction another server made', async () => {
    const prefix = `/shared-${stores++}`;
    const [a, b] = [await openTestStore(prefix), await openTestStore(prefix)];
    try {
      let kv = await a.create('/registry/leases/ns/l', '0');
      for (let i = 1; i < 20; i++) kv = await a.update(kv.key, String(i), kv.modRevision);
      const before = await b.compactedRevision();
      await a.compact(kv.modRevision - 7);
      assert.ok(before < kv.modRevision - 7);
      assert.equal(await b.compactedRevision(), kv.modRevision - 7);
      await assert.rejects(b.list('/registry/leases/', { revision: kv.modRevision - 7 }), /compacted/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('watch - a watcher that falls behind the queue limit ends with WatchOverflow; others go on', async () => {
    const store = await openTestStore(`/overflow-${stores++}`, 5);
    try {
      const r0 = await store.currentRevision();
      const slow = store.watch('/registry/pods/', { afterRevision: r0 })[Symbol.asyncIterator]();
      const fast = store.watch('/registry/pods/', { afterRevision: r0 });
      const seen: number[] = [];
      const reading = (async () => {
        for await (const event of fast) if (seen.push(event.kv.modRevision) === 10) break;
      })();
      // One write at a time, each read by the fast watcher before the next: etcd may batch several events in
      // one response, and a burst over the limit would overflow any watcher, however fast.
      for (let i = 0; i < 10; i++) {
        await store.create(`/registry/pods/ns/p${i}`, '{}');
        for (let waited = 0; seen.length <= i && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
      }
      await reading;
      assert.deepEqual(
        seen,
        Array.from({ length: 10 }, (_, i) => r0 + 1 + i)
      );
      // The slow watcher's own stream may still be behind the fast one's (under load it was): its overflow is
      // certain only once all 10 reached it, which ends it and takes it out of the store's watches.
      for (let waited = 0; store.openWatches > 0 && waited < 5000; waited += 5)
        await new Promise((r) => setTimeout(r, 5));
      await assert.rejects(slow.next(), (err) => isStorageError(err, 'WatchOverflow'));
    } finally {
      await store.close();
    }
  });

  it('TLS - members are verified against --etcd-cafile, and etcd requires the client certificate', async () => {
    const untrusted = await EtcdStore.open({
      servers: cluster.endpoints,
      certFile: cluster.certFile,
      keyFile: cluster.keyFile,
    });
    const anonymous = await EtcdStore.open({ servers: cluster.endpoints, caFile: cluster.caFile });
    try {
      for (const store of [untrusted, anonymous]) {
        await assert.rejects(store.get('/registry/pods/ns/a'), (err) => isStorageError(err, 'Unavailable'));
      }
    } finally {
      await untrusted.close();
      await anonymous.close();
    }
  });
});
