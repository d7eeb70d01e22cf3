// The pods bound to this node: a watch with fieldSelector=spec.nodeName=<node> feeds one worker per pod (by
// uid). After each complete list, containers and pod directories that belong to no known pod are removed
// (upstream's HandlePodCleanups), which is also how pods deleted while the kubelet was down get stopped.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { runInformer } from '../../lib/informer.js';
import { isRunning } from '../runtime/runtime.js';
import { Backoff } from './backoff.js';
import { PodWorker, type WorkerContext } from './worker.js';

/** How often every worker syncs even without a reason (upstream's resync interval is 1 min; cheap here). */
const resyncMs = 10_000;
/** The runtime is polled for exits of adopted containers (upstream's PLEG relist period). */
const relistMs = 1000;

export class PodManager {
  readonly #workers = new Map<string, PodWorker>();
  readonly #ctx: WorkerContext;

  constructor(ctx: Omit<WorkerContext, 'onGone' | 'backoff'>) {
    this.#ctx = { ...ctx, backoff: new Backoff(), onGone: (uid) => this.#workers.delete(uid) };
    ctx.runtime.on('exit', (c) => this.#workers.get(c.config.podUID)?.kick());
  }

  /** Runs until `signal` aborts. */
  async run(nodeName: string, signal: AbortSignal): Promise<void> {
    const relist = setInterval(() => void this.#ctx.runtime.relist(), relistMs);
    const resync = setInterval(() => {
      for (const w of this.#workers.values()) w.kick();
    }, resyncMs);
    signal.addEventListener('abort', () => {
      clearInterval(relist);
      clearInterval(resync);
      for (const w of this.#workers.values()) w.stop();
    });
    await runInformer<Pod>(
      this.#ctx.client,
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`,
      this.#ctx.log,
      signal,
      (type, pod) => this.#onEvent(type, pod),
      { onSynced: () => void this.#cleanUpOrphans() }
    );
  }

  #onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.#workers.get(uid);
    if (type === 'DELETED') {
      w?.update(pod);
      w?.removed();
      return;
    }
    if (!w) {
      w = new PodWorker(this.#ctx, pod);
      this.#workers.set(uid, w);
    }
    w.update(pod);
  }

  async #cleanUpOrphans(): Promise<void> {
    const rt = this.#ctx.runtime;
    for (const c of rt.list()) {
      if (this.#workers.has(c.config.podUID)) continue;
      if (isRunning(c)) {
        this.#ctx.log.info(
          { pod: `${c.config.podNamespace}/${c.config.podName}`, container: c.config.containerName },
          'stopping the container of a pod that is gone'
        );
        await rt.stop(c, 2000);
      }
      await rt.remove(c);
    }
    let dirs: string[] = [];
    try {
      dirs = await readdir(join(this.#ctx.rootDir, 'pods'));
    } catch {
      // no pod has run here yet
    }
    for (const uid of dirs)
      if (!this.#workers.has(uid)) await rm(join(this.#ctx.rootDir, 'pods', uid), { recursive: true, force: true });
  }

  pods(): Pod[] {
    return [...this.#workers.values()].map((w) => w.pod);
  }
}
