// The kubelet's certificate files, laid out as client-go's certificate FileStore: `<prefix>-<YYYY-MM-DD-HH-MM-SS>.pem`
// (mode 0600, the CERTIFICATE blocks then the key) and the symlink `<prefix>-current.pem` pointing at the newest,
// swapped by rename so a reader always finds a whole pair.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { keyMatchesCertificate, parseCertificate, writeKeyFile, type CertificateInfo } from '../../pki/index.js';

/** A certificate (leaf first, PEM) and its private key (PEM), with what the leaf says. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
  info: CertificateInfo;
}

const pemBlocks = (text: string): string[] =>
  text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g)?.map((b) => b.trimEnd() + '\n') ?? [];

/**
 * Splits a combined PEM file into its certificates and key, checking that the key is the leaf's.
 *
 * @throws Error naming the file when either is missing or they do not belong together.
 */
export function parsePair(text: string, path: string): CertificatePair {
  const blocks = pemBlocks(text);
  const certPem = blocks.filter((b) => b.startsWith('-----BEGIN CERTIFICATE-----')).join('');
  const keyPem = blocks.find((b) => / PRIVATE KEY-----/.test(b.split('\n')[0]!));
  if (!certPem || !keyPem) throw new Error(`${path} does not hold a certificate and a private key`);
  if (!keyMatchesCertificate(keyPem, certPem)) throw new Error(`${path}: the private key is not the certificate's`);
  return { certPem, keyPem, info: parseCertificate(certPem) };
}

const stamp = (d: Date): string => d.toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');

export class CertificateStore {
  constructor(
    readonly dir: string,
    readonly prefix: string
  ) {}

  /** `<dir>/<prefix>-current.pem`: what kubeconfigs and the kubelet server point at. */
  get currentPath(): string {
    return join(this.dir, `${this.prefix}-current.pem`);
  }

  /** The current pair, or undefined when there is none yet. An unreadable file is an error. */
  async current(): Promise<CertificatePair | undefined> {
    let text: string;
    try {
      text = await readFile(this.currentPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return parsePair(text, this.currentPath);
  }

  /** Writes a new timestamped pair and points the `-current` link at it. */
  async update(certPem: string, keyPem: string): Promise<CertificatePair> {
    const pair = parsePair(certPem + keyPem, 'the issued certificate');
    const name = `${this.prefix}-${stamp(new Date())}.pem`;
    await writeKeyFile(join(this.dir, name), pair.certPem + pair.keyPem);
    const tmp = join(this.dir, `.${this.prefix}-current.${randomBytes(4).toString('hex')}`);
    await symlink(name, tmp); // relative, so the directory can move
    try {
      await rename(tmp, this.currentPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return pair;
  }
}
