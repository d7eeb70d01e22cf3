// kube-proxy's nftables mode: after any change to Services or EndpointSlices (at most once per min sync period,
// and every sync period regardless, which repairs rules someone else changed) the whole table is rewritten in
// one `nft -f` transaction, so the node never holds half a rule set. The first sync replaces whatever an earlier
// run left; stopping deletes the table.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { KubeClient } from '../lib/kube-client.js';
import type { Logger } from '../lib/log.js';
import { buildRuleset, cleanupScript, syncScript, type Ruleset, type RulesOptions } from './nftables-rules.js';
import { ServiceState, watchServices } from './service-ports.js';

export const defaultTable = 'hubspoke-proxy';

export interface NftablesOptions extends Omit<RulesOptions, 'table'> {
  table?: string;
  /** Upstream's --min-sync-period (nftables default 1 s). */
  minSyncPeriodMs?: number;
  /** Upstream's --sync-period (30 s). */
  syncPeriodMs?: number;
}

/** Runs `nft -f -` with `script` on stdin; rejects with nft's own error text. */
export function nft(script: string, args: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', [...args, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `nft exited ${code}`))));
    child.stdin.end(script);
  });
}

/**
 * Whether this process may change the node's firewall: CAP_NET_ADMIN in its effective set and an `nft` that
 * accepts our table (checked with `nft --check`, which changes nothing).
 */
export async function canProgramNftables(table = defaultTable): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const capNetAdmin = 12n;
  if (!capEff || ((BigInt(`0x${capEff}`) >> capNetAdmin) & 1n) === 0n) return false;
  return nft(`add table ip ${table}\n`, ['--check']).then(
    () => true,
    () => false
  );
}

export class NftablesProxier {
  readonly #state = new ServiceState();
  readonly #rules: RulesOptions;
  readonly #minSyncMs: number;
  readonly #syncPeriodMs: number;
  /** What the table holds after the last successful sync; undefined → the next sync rebuilds it from nothing. */
  #applied: Ruleset | undefined;
  #dirty = false;
  #stopped = false;
  #lastSync = 0;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    opts: NftablesOptions
  ) {
    this.#rules = { ...opts, table: opts.table ?? defaultTable };
    this.#minSyncMs = opts.minSyncPeriodMs ?? 1000;
    this.#syncPeriodMs = opts.syncPeriodMs ?? 30_000;
  }

  /** Watches Services and EndpointSlices until `signal` aborts, then deletes the table. */
  async run(client: KubeClient, signal: AbortSignal): Promise<void> {
    const periodic = setInterval(() => this.#kick(), this.#syncPeriodMs);
    try {
      await watchServices(client, this.log, signal, this.#state, () => this.#kick());
    } finally {
      clearInterval(periodic);
      await this.close();
    }
  }

  /** Stops syncing and removes the table. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#syncing;
    await nft(cleanupScript(this.#rules.table)).then(
      () => this.log.info({ table: this.#rules.table }, 'nftables table deleted'),
      (err: Error) => this.log.error({ table: this.#rules.table, err: err.message }, 'cannot delete the nftables table')
    );
  }

  #kick(): void {
    this.#dirty = true;
    if (this.#stopped || this.#syncing || this.#timer) return;
    const wait = Math.max(0, this.#lastSync + this.#minSyncMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#syncing = this.#sync().finally(() => {
        this.#syncing = undefined;
        this.#lastSync = Date.now();
        if (this.#dirty) this.#kick();
      });
    }, wait);
  }

  async #sync(): Promise<void> {
    this.#dirty = false;
    const started = Date.now();
    const ports = this.#state.ports();
    const next = buildRuleset(ports, this.#rules);
    try {
      await nft(syncScript(next, this.#applied));
    } catch (err) {
      // The table was not what we left (someone changed it): rebuild it whole, once, before giving up.
      if (!this.#applied) return this.#failed(err);
      this.#applied = undefined;
      try {
        await nft(syncScript(next));
      } catch (err2) {
        return this.#failed(err2);
      }
    }
    this.#applied = next;
    this.log.info({ servicePorts: ports.length, ms: Date.now() - started }, 'nftables rules synced');
  }

  #failed(err: unknown): void {
    this.#applied = undefined;
    this.log.error({ err: (err as Error).message }, 'nftables sync failed; retrying at the next sync');
  }
}
