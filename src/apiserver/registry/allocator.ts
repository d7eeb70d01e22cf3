// Allocates Service ClusterIPs and NodePorts. Each taken value is a storage key created atomically, so two
// API servers on one store can never hand out the same one (upstream keeps a bitmap in one key; one key per
// value costs more keys but needs no read-modify-write).
import { StatusError } from '../../api/errors.js';
import { isStorageError, type Store } from '../../storage/interface.js';

export class ValueAllocator {
  constructor(
    private readonly storage: Store,
    /** Storage prefix, e.g. `/registry/serviceips/`. */
    private readonly prefix: string,
    /** Number of values in the range. */
    private readonly size: number,
    private readonly valueAt: (offset: number) => string,
    private readonly what: string
  ) {}

  /** Takes `value` for `owner`; a 422-worthy error when it is taken. */
  async allocate(value: string, owner: string): Promise<void> {
    try {
      await this.storage.create(this.prefix + value, owner);
    } catch (err) {
      if (isStorageError(err, 'KeyExists')) {
        const holder = await this.storage.get(this.prefix + value);
        if (holder?.value === owner) return;
        throw new StatusError(422, 'Invalid', `${this.what} ${value} is already allocated`);
      }
      throw err;
    }
  }

  /** Takes a free value, starting at a random offset (as upstream), skipping `reserved` offsets. */
  async allocateNext(owner: string, reserved: ReadonlySet<number> = new Set()): Promise<string> {
    const start = Math.floor(Math.random() * this.size);
    for (let i = 0; i < this.size; i++) {
      const offset = (start + i) % this.size;
      if (reserved.has(offset)) continue;
      const value = this.valueAt(offset);
      try {
        await this.storage.create(this.prefix + value, owner);
        return value;
      } catch (err) {
        if (!isStorageError(err, 'KeyExists')) throw err;
      }
    }
    throw new StatusError(
      500,
      'InternalError',
      `Internal error occurred: failed to allocate a ${this.what}: range is full`
    );
  }

  async release(value: string): Promise<void> {
    try {
      await this.storage.delete(this.prefix + value);
    } catch (err) {
      if (!isStorageError(err, 'KeyNotFound')) throw err;
    }
  }
}

/** IPv4 CIDR helpers for the service range (IPv6 service ranges are not served yet). */
export function parseIPv4CIDR(cidr: string): { base: number; size: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 30)
    throw new Error(`invalid service CIDR "${cidr}": want an IPv4 CIDR from /8 to /30`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: addr - (addr % size), size };
}

export function ipv4ToString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function ipv4ToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return o.reduce((a, x) => a * 256 + x, 0);
}
