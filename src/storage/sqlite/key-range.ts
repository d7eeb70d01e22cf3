// Prefix scans as half-open ranges [prefix, prefixEnd(prefix)) so SQLite can walk the (name, id) index. SQLite
// compares TEXT with memcmp over UTF-8, and UTF-8 byte order is Unicode code point order, so the smallest string
// greater than every key that starts with `prefix` is `prefix` with its last code point incremented.

const maxCodePoint = 0x10ffff;
const surrogateStart = 0xd800;
const surrogateEnd = 0xdfff;

/**
 * The exclusive upper bound of the keys starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd, but in code
 * points rather than bytes), or null when no bound exists (the empty prefix, or one made only of U+10FFFF).
 */
export function prefixEnd(prefix: string): string | null {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < maxCodePoint) {
      // Lone surrogates cannot be stored as UTF-8, so the successor of U+D7FF is U+E000.
      const next = last + 1 === surrogateStart ? surrogateEnd + 1 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return null;
}
