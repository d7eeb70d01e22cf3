// Synchronous check of a CSR's `spec.request`, as upstream's validateCSR: one PEM "CERTIFICATE REQUEST" block
// whose self-signature verifies. Validation runs synchronously, so this reads the few DER fields it needs itself
// (the PKCS#10 frame, the subject public key, the signature) and verifies with node:crypto.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

interface TLV {
  tag: number;
  /** Offset of the tag byte. */
  at: number;
  /** Content bounds. */
  start: number;
  end: number;
}

function readTLV(der: Buffer, at: number, tag: number): TLV {
  const got = der[at];
  const first = der[at + 1];
  if (got !== tag || first === undefined) throw new Error('malformed');
  let length = first;
  let start = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n < 1 || n > 4) throw new Error('malformed');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (der[start + i] ?? 0);
    start += n;
  }
  const end = start + length;
  if (end > der.length) throw new Error('malformed');
  return { tag, at, start, end };
}

function decodeOID(bytes: Buffer): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(Math.min(2, Math.floor(v / 40)), v - Math.min(2, Math.floor(v / 40)) * 40);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

// Signature algorithms Go's x509 verifies, by OID: the hash, and the message Go gives when the check fails.
const algorithms: Record<string, { hash: string | null; failure: string }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', failure: 'x509: ECDSA verification failure' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', failure: 'x509: ECDSA verification failure' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', failure: 'x509: ECDSA verification failure' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', failure: 'crypto/rsa: verification error' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', failure: 'crypto/rsa: verification error' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', failure: 'crypto/rsa: verification error' },
  '1.3.101.112': { hash: null, failure: 'x509: Ed25519 verification failure' },
};

const pemBlockRegexp = /-----BEGIN ([^\n-]+)-----\r?\n([\s\S]*?)-----END \1-----/;

/** Why `pem` is not an acceptable certificate request, or undefined when it is. */
export function certificateRequestError(pem: string): string | undefined {
  const block = pemBlockRegexp.exec(pem);
  if (!block || block[1] !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  // PEM headers (RFC 1421 `Key: value` lines) may precede the base64 body.
  const body = (block[2] ?? '')
    .split(/\r?\n/)
    .filter((l) => !l.includes(':'))
    .join('');
  const der = Buffer.from(body, 'base64');
  let tbs: Buffer, spki: Buffer, signature: Buffer, oid: string;
  try {
    const outer = readTLV(der, 0, 0x30);
    const info = readTLV(der, outer.start, 0x30);
    const version = readTLV(der, info.start, 0x02);
    const subject = readTLV(der, version.end, 0x30);
    const keyInfo = readTLV(der, subject.end, 0x30);
    const algorithm = readTLV(der, info.end, 0x30);
    const algorithmOID = readTLV(der, algorithm.start, 0x06);
    const bits = readTLV(der, algorithm.end, 0x03);
    if (outer.end !== der.length || bits.end !== outer.end) throw new Error('malformed');
    tbs = der.subarray(info.at, info.end);
    spki = der.subarray(keyInfo.at, keyInfo.end);
    oid = decodeOID(der.subarray(algorithmOID.start, algorithmOID.end));
    signature = der.subarray(bits.start + 1, bits.end);
  } catch {
    return 'x509: malformed certificate request';
  }
  const alg = algorithms[oid];
  if (!alg) return 'x509: cannot verify signature: algorithm unimplemented';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return 'x509: malformed subject public key';
  }
  try {
    return verify(alg.hash, tbs, key, signature) ? undefined : alg.failure;
  } catch {
    return alg.failure;
  }
}
