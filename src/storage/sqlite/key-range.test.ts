import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prefixEnd } from './key-range.js';

describe('prefixEnd', () => {
  const cases: { name: string; prefix: string; want: string | null }[] = [
    { name: 'directory prefix', prefix: '/registry/pods/', want: '/registry/pods0' },
    { name: 'no trailing slash', prefix: '/registry/pods', want: '/registry/podt' },
    { name: 'empty prefix has no bound', prefix: '', want: null },
    { name: 'astral last code point', prefix: '/a/🚀', want: '/a/🚁' },
    { name: 'skips the surrogate range', prefix: '/a/\ud7ff', want: '/a/\ue000' },
    { name: 'carries past U+10FFFF', prefix: '/a\u{10ffff}', want: '/b' },
    { name: 'only U+10FFFF has no bound', prefix: '\u{10ffff}\u{10ffff}', want: null },
  ];
  for (const tc of cases) {
    it(`prefixEnd - ${tc.name}`, () => {
      assert.equal(prefixEnd(tc.prefix), tc.want);
    });
  }

  it('prefixEnd - bounds every key with the prefix in UTF-8 byte order', () => {
    const prefix = '/registry/ünï/';
    const end = prefixEnd(prefix)!;
    const inside = [prefix, `${prefix}a`, `${prefix}\u{10ffff}\u{10ffff}`, `${prefix}日本`];
    const outside = ['/registry/ünï0', '/registry/ünïx', '/registry/üo'];
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    for (const key of inside) assert.ok(Buffer.compare(utf8(key), utf8(end)) < 0, key);
    for (const key of outside) assert.ok(Buffer.compare(utf8(key), utf8(end)) >= 0, key);
  });
});
