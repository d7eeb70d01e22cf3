// A keyed work queue (client-go's rate-limited workqueue, reduced): a key added again while it waits is worked
// on once; a key added while its work runs is worked on again afterwards, so no change is lost and no key is
// worked on twice at a time; a failure is retried with exponential backoff.
import type { Logger } from '../lib/log.js';

export interface WorkQueueOptions {
  /** @default 500 */
  baseDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

export class WorkQueue {
  readonly #pending = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #base: number;
  readonly #max: number;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    opts: WorkQueueOptions = {}
  ) {
    this.#base = opts.baseDelayMs ?? 500;
    this.#max = opts.maxDelayMs ?? 30_000;
    signal.addEventListener('abort', () => this.#pending.forEach((p) => clearTimeout(p.timer)), { once: true });
  }

  /** Queues `key` to be worked on after `delayMs` (or sooner, if it is already due sooner). */
  add(key: string, delayMs = 0): void {
    if (this.signal.aborted) return;
    if (this.#running.has(key) && delayMs === 0) {
      this.#dirty.add(key);
      return;
    }
    const due = Date.now() + delayMs;
    const existing = this.#pending.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    this.#pending.set(key, { due, timer: setTimeout(() => void this.#run(key), delayMs) });
  }

  async #run(key: string): Promise<void> {
    this.#pending.delete(key);
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    this.#running.add(key);
    try {
      await this.work(key);
      this.#failures.delete(key);
    } catch (err) {
      if (this.signal.aborted) return;
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      const delay = Math.min(this.#base * 2 ** (n - 1), this.#max);
      this.log.warn({ key, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'sync failed');
      this.add(key, delay);
    } finally {
      this.#running.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
    }
  }
}
