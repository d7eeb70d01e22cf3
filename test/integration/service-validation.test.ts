// Malformed Service specs are refused by the API server with 422 Invalid, naming the field (issue 8's "never a
// broken rule set on the node" starts here; the rules builder also skips what it could not program).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import { adminClient } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';

const path = '/api/v1/namespaces/default/services';

test('malformed Service specs → 422 naming the field; a good one is created', async (t) => {
  const cp = await startTestControlPlane(t);
  const admin = adminClient(cp);
  t.after(async () => admin.close());
  const refused = async (spec: unknown, message: RegExp): Promise<void> => {
    await assert.rejects(admin.request('POST', path, { metadata: { name: 'bad' }, spec }), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.status.code, 422, err.message);
      assert.equal(err.status.reason, 'Invalid');
      assert.match(err.status.message, message);
      return true;
    });
  };
  await refused({ ports: [{ port: 0 }] }, /spec\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535/);
  await refused({ ports: [{ port: 80, protocol: 'ICMP' }] }, /spec\.ports\[0\]\.protocol: Unsupported value: "ICMP"/);
  await refused(
    {
      ports: [
        { name: 'a', port: 80 },
        { name: 'a', port: 81 },
      ],
    },
    /spec\.ports\[1\]\.name: Duplicate value: "a"/
  );
  await refused({ ports: [{ port: 80 }, { port: 81 }] }, /spec\.ports\[0\]\.name: Required value/);
  await refused({ ports: [{ port: 80, nodePort: 30080 }] }, /spec\.ports\[0\]\.nodePort: Forbidden/);
  await refused(
    { clusterIP: '10.0.0.300', ports: [{ port: 80 }] },
    /spec\.clusterIPs\[0\]: Invalid value: "10\.0\.0\.300"/
  );
  await refused(
    { sessionAffinity: 'Cookie', ports: [{ port: 80 }] },
    /spec\.sessionAffinity: Unsupported value: "Cookie"/
  );
  await refused({ ports: [{ port: 80, targetPort: 'Not_A_Name' }] }, /spec\.ports\[0\]\.targetPort/);
  assert.equal((await admin.getOptional(`${path}/bad`)) ?? 'absent', 'absent');

  const ok = await admin.request('POST', path, { metadata: { name: 'good' }, spec: { ports: [{ port: 80 }] } });
  assert.match(ok.spec.clusterIP as string, /^127\.96\./);
  // The ClusterIP may not change.
  await assert.rejects(
    admin.request('PUT', `${path}/good`, {
      ...ok,
      spec: { ...ok.spec, clusterIP: '127.96.9.9', clusterIPs: ['127.96.9.9'] },
    }),
    (err: unknown) =>
      err instanceof StatusError && err.status.code === 422 && /may not change once set/.test(err.message)
  );
});
