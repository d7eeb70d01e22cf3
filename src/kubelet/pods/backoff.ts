// client-go's flowcontrol.Backoff as the kubelet uses it for crashing containers: 10 s doubling to 5 min,
// measured from the container's last exit; an entry untouched for twice the maximum (10 min) starts over.
export const initialBackoffMs = 10_000;
export const maxBackoffMs = 300_000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs = initialBackoffMs,
    private readonly maxMs = maxBackoffMs
  ) {}

  #expired(e: Entry, eventTime: number): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }

  /** Records a restart at `eventTime` (the last exit) and returns the back-off now in force. */
  next(key: string, eventTime: number): number {
    const e = this.#entries.get(key);
    const backoffMs = !e || this.#expired(e, eventTime) ? this.initialMs : Math.min(e.backoffMs * 2, this.maxMs);
    this.#entries.set(key, { backoffMs, lastUpdate: eventTime });
    return backoffMs;
  }

  /** The time left before a restart after an exit at `eventTime` may happen, or 0. */
  remaining(key: string, eventTime: number, now = Date.now()): number {
    const e = this.#entries.get(key);
    if (!e || this.#expired(e, eventTime)) return 0;
    return Math.max(0, e.backoffMs - (now - eventTime));
  }

  current(key: string): number {
    return this.#entries.get(key)?.backoffMs ?? this.initialMs;
  }

  forget(prefix: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}
