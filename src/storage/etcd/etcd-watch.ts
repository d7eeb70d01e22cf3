// One watcher of the etcd store: one gRPC Watch stream, started at afterRevision + 1 with prevKv (delete events
// need it for the value they carry). Events go into a bounded queue the consumer pulls from. When the stream
// breaks (a member died, lost its leader, the connection dropped) the watch reopens it from the revision after the
// last one it delivered, so a member failure loses and repeats nothing; when no member takes it within the
// reconnect window the watch ends with Unavailable, so that clients re-list instead of waiting on a dead stream.
import type { IDuplexStream, IEvent, IKeyValue, IWatchRequest, IWatchResponse } from 'etcd3';
import { StorageError } from '../interface.js';
import type { KeyValue, Watch, WatchEvent } from '../interface.js';
import { WatchQueue } from '../watch-queue.js';
import { unavailableError } from './errors.js';

export type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

export interface EtcdWatchConfig {
  /** The watched prefix as the Store caller named it (for messages). */
  prefix: string;
  /** The etcd key range. */
  key: Buffer;
  rangeEnd: Buffer;
  afterRevision: number;
  prevKv: boolean;
  queueLimit: number;
  /** How long the watch keeps trying to reopen a broken stream before it ends with Unavailable. */
  reconnectWindowMs: number;
  openStream: () => Promise<WatchStream>;
  toKeyValue: (kv: IKeyValue) => KeyValue;
  /** Called once when the watch ends for any reason. */
  onEnd: (watch: EtcdWatch) => void;
}

const reconnectDelayMs = 100;

export class EtcdWatch implements Watch, AsyncIterator<WatchEvent> {
  readonly #config: EtcdWatchConfig;
  /** The newest revision delivered into the queue; a reopened stream starts after it. */
  #revision: number;
  #stream: WatchStream | undefined;
  readonly #queue: WatchQueue;
  /** When the current run of stream failures began; cleared once etcd accepts the watch again. */
  #failingSince: number | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(config: EtcdWatchConfig) {
    this.#config = config;
    this.#revision = config.afterRevision;
    this.#queue = new WatchQueue({
      prefix: config.prefix,
      limit: config.queueLimit,
      onEnd: () => {
        clearTimeout(this.#retry);
        if (this.#stream) closeStream(this.#stream);
        this.#stream = undefined;
        config.onEnd(this);
      },
    });
  }

  /** Opens the stream; called by the store once the watch is registered. */
  start(): void {
    void this.#connect();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    return this.#queue.next();
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  close(): void {
    this.#queue.close();
  }

  /** Ends the watch with `err`: the pending pull rejects with it, or the next one does. */
  fail(err: StorageError): void {
    this.#queue.fail(err);
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    let stream: WatchStream;
    try {
      stream = await this.#config.openStream();
    } catch (err) {
      this.#broken(undefined, err);
      return;
    }
    if (this.#queue.ended) {
      closeStream(stream);
      return;
    }
    this.#stream = stream;
    stream.on('data', (res) => this.#onResponse(stream, res));
    stream.on('error', (err) => this.#broken(stream, err));
    stream.on('end', () => this.#broken(stream, new Error('the watch stream ended')));
    stream.write({
      create_request: {
        key: this.#config.key,
        range_end: this.#config.rangeEnd,
        start_revision: this.#revision + 1,
        prev_kv: true,
      },
    });
  }

  #onResponse(stream: WatchStream, res: IWatchResponse): void {
    if (this.#queue.ended || stream !== this.#stream) return;
    if (res.created) this.#failingSince = undefined;
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      if (compacted > 0) {
        this.fail(
          new StorageError(
            'Compacted',
            this.#config.prefix,
            `revision ${this.#revision + 1} has been compacted (etcd keeps revisions from ${compacted})`
          )
        );
      } else this.fail(unavailableError(this.#config.prefix, new Error(`watch canceled: ${res.cancel_reason}`)));
      return;
    }
    for (const raw of res.events) {
      const event = this.#eventOf(raw);
      if (!event) return;
      this.#revision = event.kv.modRevision;
      this.#queue.push(event);
      if (this.#queue.ended) return;
    }
  }

  /** The Store event for an etcd event, or undefined (and the watch failed) when its history is gone. */
  #eventOf(raw: IEvent): WatchEvent | undefined {
    const { toKeyValue, prevKv: wantPrev } = this.#config;
    const kv = toKeyValue(raw.kv);
    const prev = raw.prev_kv ? toKeyValue(raw.prev_kv) : undefined;
    if (raw.type === 'Delete') {
      // etcd's delete event has only the key and revision; the value and createRevision come from prevKv.
      if (prev) return { type: 'delete', kv: { ...prev, modRevision: kv.modRevision }, prevKv: prev };
    } else {
      const created = kv.createRevision === kv.modRevision;
      if (created || !wantPrev) return { type: 'put', kv };
      if (prev) return { type: 'put', kv, prevKv: prev };
    }
    // etcd reads prevKv at the event's revision - 1, which compaction may have removed.
    this.fail(
      new StorageError(
        'Compacted',
        this.#config.prefix,
        `the previous value of ${kv.key} at revision ${kv.modRevision - 1} has been compacted`
      )
    );
    return undefined;
  }

  /** The stream (or opening one) failed: reopen it after a pause, or give up once the window has passed. */
  #broken(stream: WatchStream | undefined, err: unknown): void {
    if (this.#queue.ended || stream !== this.#stream) return;
    if (stream) closeStream(stream);
    this.#stream = undefined;
    const now = Date.now();
    this.#failingSince ??= now;
    if (now - this.#failingSince >= this.#config.reconnectWindowMs) {
      this.fail(unavailableError(this.#config.prefix, err));
      return;
    }
    this.#retry = setTimeout(() => void this.#connect(), reconnectDelayMs);
  }
}

/**
 * Ends a stream we no longer read. Half-closing first makes etcd3 see it as not writable, so the cancellation's
 * CANCELLED error is not counted as a failure of the member; an error listener stays so it is not unhandled.
 */
function closeStream(stream: WatchStream): void {
  const s = stream as WatchStream & { removeAllListeners(): void };
  s.removeAllListeners();
  s.on('error', () => undefined);
  s.end();
  s.cancel();
}
