import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEgressSelectorConfiguration } from './config.js';
import { DirectDialer } from './dialer.js';
import { HTTPConnectDialer } from './http-connect.js';
import { KonnectivityDialer } from './konnectivity.js';
import { newEgressSelector } from './protocols.js';

const parse = (text: string) => parseEgressSelectorConfiguration(text, 'egress.yaml');

test("upstream's v1beta1 example: cluster over GRPC/UDS, controlplane and etcd direct", async () => {
  const config = parse(`
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: Cluster
  connection:
    proxyProtocol: GRPC
    transport:
      uds:
        udsName: /etc/kubernetes/konnectivity-server/konnectivity-server.socket
- name: controlplane
  connection:
    proxyProtocol: Direct
- name: etcd
  connection:
    proxyProtocol: Direct
`);
  assert.deepEqual(config.egressSelections[0], {
    name: 'cluster',
    connection: {
      proxyProtocol: 'GRPC',
      transport: { uds: { udsName: '/etc/kubernetes/konnectivity-server/konnectivity-server.socket' } },
    },
  });
  const selector = await newEgressSelector(config);
  assert.ok(selector.lookup('cluster') instanceof KonnectivityDialer);
  assert.ok(selector.lookup('etcd') instanceof DirectDialer);
  selector.close();
});

test('HTTPConnect over UDS; v1alpha1 with the deprecated name master; unlisted selections dial directly', async () => {
  const config = parse(
    JSON.stringify({
      apiVersion: 'apiserver.k8s.io/v1alpha1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [
        {
          name: 'master',
          connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: '/run/k.sock' } } },
        },
      ],
    })
  );
  assert.equal(config.egressSelections[0]!.name, 'controlplane');
  const selector = await newEgressSelector(config);
  assert.ok(selector.lookup('controlplane') instanceof HTTPConnectDialer);
  assert.ok(selector.lookup('cluster') instanceof DirectDialer);
});

test('every problem at once, named by its path', () => {
  assert.throws(
    () =>
      parse(`
apiVersion: apiserver.k8s.io/v1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection: {proxyProtocol: GRPC, transport: {tcp: {url: "https://k:8131"}}}
- name: cluster
  connection: {proxyProtocol: Direct, transport: {uds: {udsName: /x}}}
- name: nodes
  connection: {proxyProtocol: HTTPConnect}
- name: etcd
  connection: {proxyProtocol: SOCKS5, timeout: 3}
`),
    (err: Error) => {
      for (const want of [
        'egress selector configuration egress.yaml: ',
        'apiVersion: Unsupported value: "apiserver.k8s.io/v1"',
        'egressSelections[0].connection.transport.uds: Required value: UDS must be set with GRPC',
        'egressSelections[0].connection.transport.tcp.tlsConfig: Required value: TLSConfig must be present when using HTTPS',
        'egressSelections[1].name: Duplicate value: "cluster"',
        'egressSelections[1].connection.transport: Invalid value: "direct": config must be absent for direct connect',
        'egressSelections[2].name: Unsupported value: "nodes"',
        'egressSelections[2].connection.transport: Required value: transport must be set for HTTPConnect',
        'egressSelections[3].connection.timeout: Forbidden: unknown field',
        'egressSelections[3].connection.proxyProtocol: Unsupported value: "SOCKS5": supported values: "Direct", "GRPC", "HTTPConnect"',
      ])
        assert.ok(err.message.includes(want), `missing ${JSON.stringify(want)} in ${err.message}`);
      return true;
    }
  );
});

test('HTTPConnect: not both transports; https needs a client certificate; a missing file is named', async () => {
  const cfg = (transport: unknown) =>
    JSON.stringify({
      apiVersion: 'apiserver.k8s.io/v1beta1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'HTTPConnect', transport } }],
    });
  assert.throws(
    () => parse(cfg({ uds: { udsName: '/a' }, tcp: { url: 'http://127.0.0.1:8131' } })),
    /transport\.tcp: Invalid value: "tcp": TCP and UDS cannot both be set/
  );
  assert.throws(
    () => parse(cfg({ tcp: { url: 'https://127.0.0.1:8131', tlsConfig: { caBundle: '/ca' } } })),
    /tlsConfig\.clientCert: Required value: Using TLS requires clientCert.*tlsConfig\.clientKey: Required value/
  );
  assert.throws(() => parse(cfg({ tcp: { url: 'tcp://x:1' } })), /supported connection protocols are http/);
  const config = parse(
    cfg({ tcp: { url: 'https://127.0.0.1:8131', tlsConfig: { clientCert: '/nonexistent.crt', clientKey: '/k' } } })
  );
  await assert.rejects(newEgressSelector(config), /tlsConfig\.clientCert "\/nonexistent\.crt": ENOENT/);
});

test('not YAML, or not an object', () => {
  assert.throws(() => parse('egressSelections: [unclosed'), /egress selector configuration egress\.yaml: /);
  assert.throws(() => parse('- a\n- b\n'), /Invalid value: \["a","b"\]: must be an object/);
});
