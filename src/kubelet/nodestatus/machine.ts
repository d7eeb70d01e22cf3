// What the node has, read from the host (upstream's cadvisor MachineInfo, reduced): CPUs, memory, the disk of
// the root dir, process ids, and the identity fields of nodeInfo.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import { arch, availableParallelism, release } from 'node:os';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function meminfoKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(read('/proc/meminfo'));
  return m ? Number(m[1]) : 0;
}

export interface MachineStats {
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  diskBytes: number;
  diskAvailableBytes: number;
  pidMax: number;
  pids: number;
}

export function machineStats(rootDir: string): MachineStats {
  const fs = statfsSync(rootDir);
  return {
    cpus: availableParallelism(),
    memoryBytes: meminfoKiB('MemTotal') * 1024,
    memoryAvailableBytes: meminfoKiB('MemAvailable') * 1024,
    diskBytes: fs.blocks * fs.bsize,
    diskAvailableBytes: fs.bavail * fs.bsize,
    pidMax: Number(read('/proc/sys/kernel/pid_max')) || 32768,
    pids: readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length,
  };
}

const goArch: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

export const kubeletVersion = 'v1.33.0-hubspoke';

export function nodeArch(): string {
  return goArch[arch()] ?? arch();
}

function bwrapVersion(): string {
  try {
    return execFileSync('/usr/bin/bwrap', ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).pop() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function nodeInfo(): Record<string, string> {
  const osRelease = read('/etc/os-release');
  return {
    machineID: read('/etc/machine-id'),
    systemUUID: read('/sys/class/dmi/id/product_uuid') || read('/etc/machine-id'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux',
    containerRuntimeVersion: `bwrap://${bwrapVersion()}`,
    kubeletVersion,
    operatingSystem: 'linux',
    architecture: nodeArch(),
  };
}
