// Token discovery of the cluster CA (kubeadm join's discovery.token), pinned by the SHA-256 of the CA's
// SubjectPublicKeyInfo (`--ca-cert-hash sha256:…`).
//
// The bootstrap token is a credential: it is not sent to a server not yet trusted when that can be avoided.
// So the CA is looked for first in the TLS handshake itself: hubspoke's API server sends its chain (serving
// certificate, then the cluster CA), and a CA in it that matches the pin and signed the serving certificate the
// server proved it holds the key of is trusted before any request is made. Only if the server sends no issuer
// (a `--tls-cert-file` without its chain) does discovery read kubeadm's `kube-public/cluster-info` ConfigMap,
// authenticated with the token over an unverified connection, as anonymous reads are off by default here; the CA
// found there must match the pin and must have signed the certificate of the connection it came over.
import { request } from 'node:https';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { caCertHash, parseCertificate, verifyIssuedBy } from '../../pki/index.js';

export interface DiscoveryOptions {
  /** `https://host:port` of the API server. */
  server: string;
  /** `<id>.<secret>`. */
  token: string;
  /** `--ca-cert-hash`: the accepted pins (`sha256:<hex>`). */
  caCertHashes: string[];
  /** `--discovery-token-unsafe-skip-ca-verification`: accept the CA without a pin. */
  unsafeSkipCAVerification: boolean;
  timeoutMs?: number;
}

export interface DiscoveredCA {
  caPem: string;
  /** Where the CA came from: the TLS handshake's chain or the cluster-info ConfigMap. */
  source: 'tls-chain' | 'cluster-info';
  hash: string;
}

export const pinPattern = /^sha256:[0-9a-f]{64}$/;

const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/** The certificates the server sent, leaf first, as PEM. */
function chainOf(socket: TLSSocket): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let c: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(toPem(c.raw));
    c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return out;
}

/** The CA certificates of a chain that issued its leaf. */
function issuersOfLeaf(chain: string[]): string[] {
  const [leaf, ...rest] = chain;
  if (!leaf) return [];
  return rest.filter((c) => parseCertificate(c).isCA && verifyIssuedBy(leaf, c));
}

function checkPin(ca: string, o: DiscoveryOptions, where: string): string {
  const hash = caCertHash(ca);
  if (o.unsafeSkipCAVerification || o.caCertHashes.includes(hash)) return hash;
  throw new Error(
    `refusing to join: the cluster CA presented by ${o.server} (${where}) has public key hash ${hash}, ` +
      `which does not match the pinned --ca-cert-hash ${o.caCertHashes.join(', ')}; ` +
      'check that --server is the cluster the token was created on, and ask its administrator for the hash ' +
      '(hubspoke token create prints it)'
  );
}

function handshake(url: URL, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false, // nothing is sent: the chain is only read, then checked against the pin
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS handshake with ${url.host} in ${timeoutMs}ms`))
    );
    socket.once('secureConnect', () => {
      const chain = chainOf(socket);
      socket.end();
      resolve(chain);
    });
    socket.once('error', reject);
  });
}

function fetchClusterInfo(url: URL, token: string, timeoutMs: number): Promise<{ caPem: string; leaf?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/api/v1/namespaces/kube-public/configmaps/cluster-info', url),
      {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        rejectUnauthorized: false, // checked below: the CA must match the pin and have signed this server's certificate
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const leaf = chainOf(res.socket as TLSSocket)[0];
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            let message = text.slice(0, 200);
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // not a Status: the raw text says it
            }
            reject(
              new Error(
                `cannot read kube-public/cluster-info with the bootstrap token (HTTP ${res.statusCode}): ${message}`
              )
            );
            return;
          }
          try {
            const cm = JSON.parse(text) as { data?: { kubeconfig?: string } };
            const kc = parse(cm.data?.kubeconfig ?? '') as {
              clusters?: { cluster?: { 'certificate-authority-data'?: string } }[];
            };
            const data = kc?.clusters?.[0]?.cluster?.['certificate-authority-data'];
            if (!data) throw new Error('kube-public/cluster-info holds no kubeconfig with certificate-authority-data');
            resolve({ caPem: Buffer.from(data, 'base64').toString('utf8'), leaf });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      }
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} in ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Finds the cluster CA and checks it against the pin.
 *
 * @throws Error naming both hashes when the CA does not match the pin; Error saying why when no CA is found.
 */
export async function discoverClusterCA(o: DiscoveryOptions): Promise<DiscoveredCA> {
  if (!o.unsafeSkipCAVerification && o.caCertHashes.length === 0)
    throw new Error(
      'a --ca-cert-hash is required to verify the cluster CA; to join without it, pass --discovery-token-unsafe-skip-ca-verification'
    );
  const url = new URL(o.server);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const issuers = issuersOfLeaf(await handshake(url, timeoutMs));
  if (issuers.length) {
    const pinned = issuers.find((c) => o.unsafeSkipCAVerification || o.caCertHashes.includes(caCertHash(c)));
    const caPem = pinned ?? issuers[0]!;
    return { caPem, source: 'tls-chain', hash: checkPin(caPem, o, 'in its TLS certificate chain') };
  }
  const { caPem, leaf } = await fetchClusterInfo(url, o.token, timeoutMs);
  const hash = checkPin(
    caPem,
    o,
    'in kube-public/cluster-info, read with the bootstrap token: treat the token as exposed and delete it'
  );
  if (!leaf || !verifyIssuedBy(leaf, caPem))
    throw new Error(
      `refusing to join: the serving certificate of ${o.server} is not signed by the CA in kube-public/cluster-info; the bootstrap token was sent to it: treat the token as exposed and delete it`
    );
  return { caPem, source: 'cluster-info', hash };
}
