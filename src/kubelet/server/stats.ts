// `/stats/summary` in the shape of upstream's statsapi.Summary (streaming.md §1.1), CPU and memory only, from
// /proc: the node from /proc/stat and /proc/meminfo, each container from its first process (no cgroups here, so
// processes it started later are not counted). usageNanoCores is the rate since the previous sample.
import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const PAGE = 4096;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Cumulative CPU nanoseconds of the node (all but idle and iowait). */
function nodeCPUNanos(): number {
  const f = (read('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return ((user + nice + system + irq + softirq + steal) * 1e9) / TICKS_PER_SECOND;
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (read('/proc/meminfo') ?? '').split('\n')) {
    const m = /^(\S+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

/** CPU nanoseconds and resident bytes of one process, or undefined when it is gone. */
function processUsage(pid: number): { cpuNanos: number; rssBytes: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after the name start at 3 (state): utime is 14, stime 15, rss 24
  const cpuNanos = ((Number(f[11]) + Number(f[12])) * 1e9) / TICKS_PER_SECOND;
  return { cpuNanos, rssBytes: Number(f[21]) * PAGE };
}

export interface StatsContainer {
  name: string;
  pid?: number;
  startedAt?: string;
}

export class StatsProvider {
  readonly #last = new Map<string, { nanos: number; at: number }>();

  constructor(
    private readonly nodeName: string,
    private readonly startTime: string
  ) {}

  #cpu(key: string, nanos: number, time: string): Record<string, number | string> {
    const now = Date.now();
    const prev = this.#last.get(key);
    this.#last.set(key, { nanos, at: now });
    const cpu: Record<string, number | string> = { time, usageCoreNanoSeconds: Math.round(nanos) };
    if (prev && now > prev.at)
      cpu.usageNanoCores = Math.max(0, Math.round(((nanos - prev.nanos) * 1000) / (now - prev.at)));
    return cpu;
  }

  summary(pods: { pod: Pod; containers: StatsContainer[] }[], onlyCPUAndMemory: boolean): unknown {
    const time = new Date().toISOString();
    const mem = meminfo();
    const total = mem.MemTotal ?? 0;
    const used = total - (mem.MemAvailable ?? 0);
    const node = {
      nodeName: this.nodeName,
      startTime: this.startTime,
      cpu: this.#cpu('node', nodeCPUNanos(), time),
      memory: {
        time,
        availableBytes: mem.MemAvailable,
        usageBytes: total - (mem.MemFree ?? 0),
        workingSetBytes: used,
        rssBytes: used,
      },
      ...(onlyCPUAndMemory ? {} : { systemContainers: [] }),
    };
    const podStats = pods.map(({ pod, containers }) => {
      const uid = pod.metadata!.uid!;
      let cpuNanos = 0;
      let rss = 0;
      const cs = containers.map((c) => {
        const u = c.pid ? processUsage(c.pid) : undefined;
        cpuNanos += u?.cpuNanos ?? 0;
        rss += u?.rssBytes ?? 0;
        return {
          name: c.name,
          startTime: c.startedAt,
          cpu: this.#cpu(`${uid}/${c.name}`, u?.cpuNanos ?? 0, time),
          memory: { time, usageBytes: u?.rssBytes ?? 0, workingSetBytes: u?.rssBytes ?? 0, rssBytes: u?.rssBytes ?? 0 },
        };
      });
      return {
        podRef: { name: pod.metadata!.name, namespace: pod.metadata!.namespace, uid },
        startTime: pod.status?.startTime,
        containers: cs,
        cpu: this.#cpu(uid, cpuNanos, time),
        memory: { time, usageBytes: rss, workingSetBytes: rss, rssBytes: rss },
      };
    });
    return { node, pods: podStats };
  }
}
