// A certificate manager (client-go's util/certificate Manager): keeps one certificate current by asking for a new
// one, with a new key, at a uniformly random point in 70–90 % of the current one's lifetime (from notBefore), or at
// once when the current one no longer fits the template (a serving certificate whose node addresses changed).
// Failures back off 2 s doubling to 32 s, then every 32 s. Listeners learn of each new pair, so the kubelet's API
// client and HTTPS server switch without a restart.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeClient } from '../../lib/kube-client.js';
import type { Logger } from '../../lib/log.js';
import { canonicalIP, createCSR, type CertificateInfo } from '../../pki/index.js';
import { kubeletUsages, requestCertificate } from './csr.js';
import type { CertificatePair, CertificateStore } from './store.js';

/** What the certificate must say. */
export interface CertificateTemplate {
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface CertificateManagerOptions {
  store: CertificateStore;
  signerName: string;
  extUsage: 'client auth' | 'server auth';
  /** The template, or undefined while it cannot be made yet (a serving certificate before the node has addresses). */
  template: () => CertificateTemplate | undefined;
  /** The client to ask with: the kubelet's current identity (selfnodeclient for the client certificate). */
  client: () => KubeClient;
  log: Logger;
  /** When to renew; tests shorten it. @default uniformly 70–90 % of the lifetime after notBefore */
  rotationDeadline?: (info: CertificateInfo) => Date;
  /** How long one request may wait for approval and issuance. @default 15 min */
  requestTimeoutMs?: number;
}

/** client-go's nextRotationDeadline: notBefore + (0.7 + 0.2·random)·lifetime. */
export function jitteryDeadline(info: CertificateInfo): Date {
  const nb = info.notBefore.getTime();
  const total = info.notAfter.getTime() - nb;
  return new Date(nb + total * (0.7 + 0.2 * Math.random()));
}

const sameSet = (a: string[] = [], b: string[] = []): boolean =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/** Whether a certificate carries the template's subject and names (client-go's templateChanged, inverted). */
export function fitsTemplate(info: CertificateInfo, t: CertificateTemplate): boolean {
  return (
    info.commonName === t.commonName &&
    sameSet(info.organizations, t.organizations) &&
    sameSet(info.dnsNames, t.dnsNames) &&
    sameSet(info.ipAddresses.map(canonicalIP), (t.ipAddresses ?? []).map(canonicalIP))
  );
}

// setTimeout holds at most 2^31−1 ms (24.8 days); longer waits are taken in steps.
const maxTimerMs = 2 ** 31 - 1;
const backoffMs = [2000, 4000, 8000, 16000, 32000];

export class CertificateManager {
  #current?: CertificatePair;
  #context?: SecureContext;
  #timer?: NodeJS.Timeout;
  #failures = 0;
  readonly #listeners: ((pair: CertificatePair) => void)[] = [];
  readonly #stop = new AbortController();

  constructor(private readonly o: CertificateManagerOptions) {}

  /** The current pair, or undefined before the first certificate is issued. */
  current(): CertificatePair | undefined {
    return this.#current;
  }

  /**
   * A TLS context with the current pair, for `SNICallback` or `server.setSecureContext`; undefined before the
   * first certificate is issued (handshakes fail until then, as upstream's).
   */
  secureContext(): SecureContext | undefined {
    if (!this.#context && this.#current)
      this.#context = createSecureContext({ cert: this.#current.certPem, key: this.#current.keyPem });
    return this.#context;
  }

  /** Calls `fn` with every new pair. */
  onRotate(fn: (pair: CertificatePair) => void): void {
    this.#listeners.push(fn);
  }

  /** Loads the stored pair (else `initial`, if given) and schedules its renewal. */
  async start(initial?: CertificatePair): Promise<void> {
    try {
      this.#current = (await this.o.store.current()) ?? initial;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'ignoring an unreadable certificate; requesting a new one');
      this.#current = initial;
    }
    this.#schedule();
  }

  stop(): void {
    this.#stop.abort();
    clearTimeout(this.#timer);
  }

  /** When the current certificate should be replaced: now when there is none or it does not fit. */
  #deadline(): number {
    const cur = this.#current;
    const t = this.o.template();
    if (!cur || (t && !fitsTemplate(cur.info, t))) return Date.now();
    return (this.o.rotationDeadline ?? jitteryDeadline)(cur.info).getTime();
  }

  #schedule(delayMs?: number): void {
    if (this.#stop.signal.aborted) return;
    const wait = Math.max(0, delayMs ?? this.#deadline() - Date.now());
    this.#timer = setTimeout(
      () => (wait > maxTimerMs ? this.#schedule() : void this.#rotate()),
      Math.min(wait, maxTimerMs)
    );
  }

  async #rotate(): Promise<void> {
    const template = this.o.template();
    if (!template) {
      this.#schedule(backoffMs[0]); // no addresses yet: look again soon
      return;
    }
    try {
      const { csr, key } = await createCSR(template); // a new ECDSA P-256 key each time
      const certPem = await requestCertificate(this.o.client(), {
        csrPem: csr,
        signerName: this.o.signerName,
        usages: kubeletUsages(key, this.o.extUsage),
        timeoutMs: this.o.requestTimeoutMs ?? 15 * 60_000,
        signal: this.#stop.signal,
      });
      const pair = await this.o.store.update(certPem, key);
      this.#current = pair;
      this.#context = undefined;
      this.#failures = 0;
      this.o.log.info(
        { signer: this.o.signerName, serial: pair.info.serialNumber, notAfter: pair.info.notAfter.toISOString() },
        'certificate rotated'
      );
      for (const fn of this.#listeners) fn(pair);
      this.#schedule();
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      const delay = backoffMs[Math.min(this.#failures++, backoffMs.length - 1)]!;
      this.o.log.warn(
        { err: (err as Error).message, signer: this.o.signerName, retryInMs: delay },
        'certificate rotation failed'
      );
      this.#schedule(delay * (1 + 0.1 * Math.random()));
    }
  }
}
