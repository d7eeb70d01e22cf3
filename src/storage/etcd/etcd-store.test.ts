import { after } from 'node:test';
import { startEtcdCluster } from '../../../test/framework/etcd.js';
import { runStorageConformance } from '../conformance.js';
import { EtcdStore } from './etcd-store.js';

// One three-member cluster for the file; each case gets an empty store of its own under a fresh --etcd-prefix.
// The cases run one after another, so the revisions a case sees are its own writes.
const cluster = await startEtcdCluster({ after });
let stores = 0;

function openTestStore(prefix = `/conformance-${stores++}`): Promise<EtcdStore> {
  return EtcdStore.open({
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
