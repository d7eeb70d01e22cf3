import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { apiServerSANs } from './apiserver-sans.js';
import { createCA, type CertKeyPair } from './ca.js';
import { issueCertificate } from './certificates.js';

const HOUR_MS = 60 * 60 * 1000;

describe('tls', () => {
  let ca: CertKeyPair;
  let serving: CertKeyPair;
  let admin: CertKeyPair;
  let server: tls.Server;
  let port: number;

  before(async () => {
    ca = await createCA({ commonName: 'kubernetes' });
    const sans = apiServerSANs({
      hostname: 'node-1',
      advertiseAddress: '127.0.0.1',
      serviceClusterIPRange: '10.96.0.0/12',
    });
    [serving, admin] = await Promise.all([
      issueCertificate({ ca, commonName: 'kube-apiserver', ...sans, usages: ['server'], validityMs: HOUR_MS }),
      issueCertificate({
        ca,
        commonName: 'kubernetes-admin',
        organizations: ['system:masters'],
        usages: ['client'],
        validityMs: HOUR_MS,
      }),
    ]);
    // The API server's posture (upstream's VerifyClientCertIfGiven): ask for a client certificate, accept the
    // connection either way, and authenticate only a certificate that verified against the CA.
    server = tls.createServer({ ...serving, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (socket) => {
      const peer = socket.getPeerCertificate();
      socket.end(socket.authorized ? `${peer.subject.CN}/${String(peer.subject.O)}` : `${socket.authorizationError}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  // Resolves with what the server wrote, or rejects with the first error the client saw.
  async function dial(options: tls.ConnectionOptions): Promise<string> {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, ...options });
    socket.setEncoding('utf8');
    let data = '';
    let error: Error | undefined;
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err) => (error ??= err));
    await once(socket, 'close');
    if (error != null) throw error;
    return data;
  }

  it('tls - client verifies the serving cert by IP SAN and by each service name, server verifies the client', async () => {
    for (const servername of [undefined, 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'node-1']) {
      assert.equal(await dial({ ...admin, servername }), 'kubernetes-admin/system:masters', String(servername));
    }
  });

  it('tls - a name outside the SANs fails hostname verification', async () => {
    await assert.rejects(dial({ ...admin, servername: 'evil.example' }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('tls - a client trusting another CA refuses the server', async () => {
    const other = await createCA({ commonName: 'other' });
    // The server sends its chain up to the CA, so the client sees an untrusted self-signed root.
    await assert.rejects(dial({ ...admin, ca: other.cert }), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('tls - a client certificate from another CA does not authenticate', async () => {
    const other = await createCA({ commonName: 'other' });
    const stranger = await issueCertificate({ ca: other, commonName: 'x', usages: ['client'], validityMs: HOUR_MS });
    assert.equal(await dial(stranger), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('tls - the serving certificate (serverAuth only) does not authenticate a client', async () => {
    assert.equal(await dial(serving), 'INVALID_PURPOSE');
  });

  it('tls - no client certificate: connected but not authenticated', async () => {
    assert.equal(await dial({}), 'UNABLE_TO_GET_ISSUER_CERT');
  });
});
