// The keys service-account tokens are signed and verified with (kube-apiserver --service-account-signing-key-file
// and --service-account-key-file). Each key's id is upstream's: base64url(SHA-256(DER SubjectPublicKeyInfo)),
// so a verifier can pick the key from the token header and from /openid/v1/jwks.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, type JWK } from 'jose';
import { writeCertFile, writeKeyFile } from '../../pki/index.js';

export interface VerificationKey {
  kid: string;
  alg: string;
  key: KeyObject;
}

export interface ServiceAccountKeys {
  signing: { kid: string; alg: string; key: KeyObject };
  /** Every key a token may be signed with: the signing key's public half and each --service-account-key-file. */
  verification: VerificationKey[];
}

/** The JWS algorithm a key signs with: RSA → RS256 only, ECDSA by curve, as upstream. */
export function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    throw new Error(`unsupported ECDSA curve ${String(curve)} for service account tokens`);
  }
  throw new Error(`unsupported key type ${String(key.asymmetricKeyType)} for service account tokens (RSA or ECDSA)`);
}

export function keyID(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

function verificationKey(publicKey: KeyObject): VerificationKey {
  return { kid: keyID(publicKey), alg: algorithmFor(publicKey), key: publicKey };
}

const pemBlockRegexp = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** Every public key in a PEM file: public keys, private keys (their public half) and certificates. */
export function parsePublicKeys(pem: string, file: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const m of pem.matchAll(pemBlockRegexp)) {
    const block = m[0];
    keys.push(m[1] === 'CERTIFICATE' ? new X509Certificate(block).publicKey : createPublicKey(block));
  }
  if (keys.length === 0) throw new Error(`${file}: no public key, private key or certificate found`);
  return keys;
}

/**
 * Loads the signing key, or generates an RSA-2048 key into `<pkiDir>/sa.key` (0600, with `sa.pub`) the first time
 * as kubeadm does, and the verification keys. Every token a server signs verifies with its own keys.
 */
export async function loadServiceAccountKeys(o: {
  signingKeyFile?: string;
  keyFiles: readonly string[];
  pkiDir: string;
}): Promise<ServiceAccountKeys> {
  let privateKey: KeyObject;
  if (o.signingKeyFile) {
    privateKey = createPrivateKey(await readFile(o.signingKeyFile, 'utf8'));
  } else {
    const path = join(o.pkiDir, 'sa.key');
    let pem: string | undefined;
    try {
      pem = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (pem === undefined) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await writeKeyFile(path, pem);
      await writeCertFile(join(o.pkiDir, 'sa.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    }
    privateKey = createPrivateKey(pem);
  }
  const signingPublic = createPublicKey(privateKey);
  const verification = [verificationKey(signingPublic)];
  for (const file of o.keyFiles) {
    for (const k of parsePublicKeys(await readFile(file, 'utf8'), file)) {
      const v = verificationKey(k);
      if (!verification.some((x) => x.kid === v.kid)) verification.push(v);
    }
  }
  return { signing: { ...verification[0]!, key: privateKey }, verification };
}

/** The JWKS served at /openid/v1/jwks: every verification key, public parts only. */
export async function jwks(keys: ServiceAccountKeys): Promise<{ keys: JWK[] }> {
  return {
    keys: await Promise.all(
      keys.verification.map(async (v) => ({ use: 'sig', ...(await exportJWK(v.key)), kid: v.kid, alg: v.alg }))
    ),
  };
}
