import { createPrivateKey, createPublicKey, generateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

type CryptoKey = webcrypto.CryptoKey;

/** Key algorithms hubspoke generates, named as kubeadm's `encryptionAlgorithm` names them. */
export type KeyAlgorithm = 'ECDSA-P256' | 'RSA-2048';

/**
 * ECDSA P-256 is the default: a key is generated in well under a millisecond, where RSA-2048 spends tens to
 * hundreds of milliseconds searching for primes; signatures, certificates and handshakes are smaller and cheaper;
 * and every Kubernetes client accepts it (kubeadm's `ECDSA-P256`). RSA-2048 remains for peers that insist on RSA.
 */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA-P256';

/** A private key ready for WebCrypto signing, with its public half and the algorithms to use it with. */
export interface Signer {
  /** The pair as `@peculiar/x509` wants it; the public key is extractable (x509 encodes it). */
  keys: { privateKey: CryptoKey; publicKey: CryptoKey };
  /** The signature algorithm for certificates and CSRs signed by this key (SHA-256 or SHA-384 based). */
  signingAlgorithm: { name: string; hash: string };
}

const generate = promisify(generateKeyPair);

// WebCrypto import parameters for each curve Node may report; the hash follows the curve size (RFC 5480 §4).
const EC_CURVES: Record<string, { namedCurve: string; hash: string; label: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256', label: 'ECDSA-P256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384', label: 'ECDSA-P384' },
};

/**
 * Generates a private key.
 *
 * @param algorithm - which key to make.
 * @returns the private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
 */
export async function generatePrivateKey(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<string> {
  const { privateKey } =
    algorithm === 'RSA-2048'
      ? await generate('rsa', { modulusLength: 2048 })
      : await generate('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * Names a key's algorithm the way kubeadm does (`ECDSA-P256`, `RSA-2048`), or by Node's key type when the
 * key is of a kind hubspoke does not sign with (`ed25519`).
 */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA-${details.modulusLength ?? 0}`;
  if (key.asymmetricKeyType === 'ec') {
    return EC_CURVES[details.namedCurve ?? '']?.label ?? `ECDSA-${details.namedCurve ?? 'unknown'}`;
  }
  return key.asymmetricKeyType ?? 'unknown';
}

/**
 * Imports a PEM private key (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) for signing.
 *
 * @throws Error when the PEM is not a private key or the key is neither RSA nor ECDSA P-256/P-384.
 */
export async function importSigner(privateKeyPem: string): Promise<Signer> {
  const key = createPrivateKey(privateKeyPem);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  let params: { name: string; namedCurve?: string; hash?: string };
  let signingAlgorithm: { name: string; hash: string };
  if (key.asymmetricKeyType === 'rsa') {
    params = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  } else {
    const curve = key.asymmetricKeyType === 'ec' ? EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
    if (curve == null) throw new Error(`unsupported private key algorithm ${describeKey(key)}: want RSA or ECDSA`);
    params = { name: 'ECDSA', namedCurve: curve.namedCurve };
    signingAlgorithm = { name: 'ECDSA', hash: curve.hash };
  }
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']),
    webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  ]);
  return { keys: { privateKey, publicKey }, signingAlgorithm };
}
