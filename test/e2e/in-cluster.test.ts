// A pod on `hubspoke up` (kube-proxy in userspace mode, Services in 127/8) uses the API as in-cluster clients do:
// @kubernetes/client-node's loadFromCluster() dials the `kubernetes` VIP from KUBERNETES_SERVICE_HOST/PORT,
// verifies the API server with the mounted ca.crt and authenticates with the mounted token
// (test/e2e/fixtures/in-cluster-client.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '../framework/api.js';
import { kubectl } from '../framework/kubectl.js';
import { startUp } from '../framework/up.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

test('in a pod: loadFromCluster() reads its own pod through the kubernetes VIP, 403 beyond its role, wrong CA fails', async (t) => {
  const up = await startUp(t);
  const k = kubectl(33, up.kubeconfigPath);
  // The default service account may read pods here, nothing more.
  await k.ok(['create', 'role', 'pod-reader', '--verb=get', '--resource=pods']);
  await k.ok(['create', 'rolebinding', 'pod-reader', '--role=pod-reader', '--serviceaccount=default:default']);
  await k.ok(['apply', '-f', '-'], {
    stdin: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'in-cluster' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'repo', hostPath: { path: repo, type: 'Directory' } }],
        containers: [
          {
            name: 'client',
            image: 'node:20',
            // The checkout may sit under /tmp, which a pod's own /tmp hides: bind it in as a hostPath.
            workingDir: '/repo',
            volumeMounts: [{ name: 'repo', mountPath: '/repo', readOnly: true }],
            command: [process.execPath, '--import', 'tsx', 'test/e2e/fixtures/in-cluster-client.ts', 'in-cluster'],
          },
        ],
      },
    }),
  });
  const phase = await eventually(
    'the pod to finish',
    async () => {
      const p = await k.ok(['get', 'pod', 'in-cluster', '-o', 'jsonpath={.status.phase}']);
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    },
    60_000
  );
  const logs = await k.ok(['logs', 'in-cluster']);
  assert.equal(phase, 'Succeeded', logs);
  t.diagnostic(logs.trim());
  const out = JSON.parse(logs.trim().split('\n').pop()!) as Record<string, unknown>;
  const vip = await k.ok(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
  assert.match(vip, /^127\.96\./);
  assert.equal(out.server, `https://${vip}:443`);
  const uid = await k.ok(['get', 'pod', 'in-cluster', '-o', 'jsonpath={.metadata.uid}']);
  assert.deepEqual(out.ownPod, { ok: uid });
  assert.deepEqual(out.secrets, { err: 403 });
  // Node's verification failures (which one depends on the chain the server sends).
  const tlsFailures = /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/;
  assert.match(String((out.wrongCA as { err?: unknown }).err), tlsFailures);
});
