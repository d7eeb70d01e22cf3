// The agent's server set (upstream's pkg/agent/clientset.go, reference §5): servers sit behind one address, so the
// agent dials it again and again, each time on a new TCP connection, and keeps one stream per distinct `serverid`
// until it holds `servercount` of them. It keeps looking afterwards (upstream's --sync-forever, here the default)
// so a restarted or added server is found. Backoff ×1.5 with 10 % jitter from --sync-interval to
// --sync-interval-cap on errors; a duplicate server is not an error. A lost stream wakes the loop at once.
import { silentLogger, type Logger } from '../../lib/log.js';
import { ProxyAgent, type ProxyAgentOptions } from './agent.js';
import { AgentMetrics } from './metrics.js';

export interface AgentClientSetOptions extends Omit<ProxyAgentOptions, 'metrics' | 'log'> {
  /** --sync-interval @default 1 s */
  syncIntervalMs?: number;
  /** --sync-interval-cap @default 10 s */
  syncIntervalCapMs?: number;
  /**
   * --sync-forever: keep dialing once `servercount` is met, to find new and restarted servers. Then the loop dials at
   * the cap interval only (one TLS handshake and TokenReview per agent per cap, not per interval). @default true
   */
  syncForever?: boolean;
  log?: Logger;
}

const jitter = (ms: number): number => ms + Math.random() * 0.1 * ms;

export class AgentClientSet {
  private readonly log: Logger;
  /** serverID → the stream to it. */
  private readonly clients = new Map<string, ProxyAgent>();
  private lastServerCount = 0;
  private draining = false;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  readonly metrics = new AgentMetrics();

  constructor(private readonly options: AgentClientSetOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** The servers this agent holds a stream to. */
  get serverIDs(): string[] {
    return [...this.clients.keys()];
  }

  /** Readiness: at least one server connected (upstream's agent /readyz). */
  get ready(): boolean {
    return this.clients.size > 0;
  }

  /** Endpoint connections over all streams (a leak check). */
  get openConnections(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.openConnections;
    return n;
  }

  /** The server count the agent aims for: the last unique server's `servercount`, at least 1. */
  get serverCount(): number {
    return this.lastServerCount || 1;
  }

  /** Starts the sync loop; the first attempt is immediate. */
  start(): void {
    this.loop ??= this.run();
  }

  /**
   * First SIGTERM (upstream): DRAIN on every stream, no new servers; existing connections keep working.
   */
  drain(): void {
    this.draining = true;
    for (const c of this.clients.values()) c.drain();
  }

  /** Stops the loop and closes every stream and its connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    await this.loop;
  }

  private async run(): Promise<void> {
    const interval = this.options.syncIntervalMs ?? 1_000;
    const cap = this.options.syncIntervalCapMs ?? 10_000;
    let backoff = interval;
    while (!this.stopped) {
      const result = await this.connectOnce();
      let wait: number;
      if (result === 'error') {
        wait = jitter(backoff);
        backoff = Math.min(backoff * 1.5, cap);
      } else {
        backoff = interval;
        wait = jitter(this.clients.size >= this.serverCount ? cap : interval);
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async connectOnce(): Promise<'idle' | 'connected' | 'duplicate' | 'error'> {
    if (this.draining) return 'idle';
    this.metrics.knownServerCount.set(this.serverCount);
    if (this.options.syncForever === false && this.clients.size >= this.serverCount) return 'idle';
    const agent = new ProxyAgent({ ...this.options, metrics: this.metrics, log: this.log });
    let info;
    try {
      info = await agent.connect();
    } catch (err) {
      this.log.warn({ server: this.options.serverAddress, err: (err as Error).message }, 'cannot connect to server');
      agent.close();
      return 'error';
    }
    if (this.stopped || this.clients.has(info.serverID)) {
      agent.close();
      return 'duplicate';
    }
    this.clients.set(info.serverID, agent);
    this.lastServerCount = info.serverCount; // only from a new unique server (upstream PR #775)
    this.metrics.openServerConnections.set(this.clients.size);
    this.metrics.knownServerCount.set(this.serverCount);
    this.log.info({ serverID: info.serverID, serverCount: info.serverCount }, 'connected to server');
    void agent.closed.then(() => {
      if (this.clients.get(info.serverID) !== agent) return;
      this.clients.delete(info.serverID);
      this.metrics.openServerConnections.set(this.clients.size);
      this.log.info({ serverID: info.serverID }, 'lost server');
      this.wake?.();
    });
    return 'connected';
  }
}
