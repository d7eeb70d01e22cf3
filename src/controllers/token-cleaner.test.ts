import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msUntilExpiry } from './token-cleaner.js';

const secret = (expiration?: string): { metadata: { name: string }; data: Record<string, string> } => ({
  metadata: { name: 'bootstrap-token-abcdef' },
  data: expiration === undefined ? {} : { expiration: Buffer.from(expiration).toString('base64') },
});

test('msUntilExpiry - RFC 3339 expirations; none never expires; one that does not parse has expired', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');
  assert.equal(msUntilExpiry(secret(), now), undefined);
  assert.equal(msUntilExpiry(secret('2026-12-02T00:01:00Z'), now), 60_000);
  assert.equal(msUntilExpiry(secret('2026-12-02T01:00:00+01:00'), now), 0);
  assert.equal(msUntilExpiry(secret('2026-12-01T23:59:00.5Z'), now), -59_500);
  for (const bad of ['tomorrow', '2026-12-03', '2026-12-03 00:00:00Z', '2026-13-45T00:00:00Z'])
    assert.ok(msUntilExpiry(secret(bad), now)! <= 0, bad);
});
