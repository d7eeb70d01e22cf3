// The token CLI's pure parts: generated tokens, the Secret written, option validation and kubeadm's table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bootstrapTokenSecret,
  formatTokenTable,
  generateBootstrapToken,
  validateTokenCreateOptions,
  type TokenCreateOptions,
} from './token.js';

const opts: TokenCreateOptions = {
  ttlMs: 24 * 3600_000,
  description: 'for n1',
  groups: ['system:bootstrappers:kubeadm:default-node-token'],
  usages: ['authentication', 'signing'],
  kubeconfig: '/dev/null',
};

describe('hubspoke token', () => {
  it('generates <id>.<secret> tokens and the Secret kubeadm writes', () => {
    const token = generateBootstrapToken();
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.notEqual(generateBootstrapToken(), token);
    const now = new Date('2026-01-01T00:00:00.123Z');
    assert.deepEqual(bootstrapTokenSecret('abcdef.0123456789abcdef', opts, now), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': 'abcdef',
        'token-secret': '0123456789abcdef',
        description: 'for n1',
        expiration: '2026-01-02T00:00:00Z',
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      },
    });
    assert.equal(
      (bootstrapTokenSecret('abcdef.0123456789abcdef', { ...opts, ttlMs: 0 }).stringData as any).expiration,
      undefined
    );
  });

  it('validates groups and usages, every error at once', () => {
    assert.deepEqual(validateTokenCreateOptions(opts), []);
    assert.equal(validateTokenCreateOptions({ ...opts, groups: ['system:masters'], usages: ['sign'] }).length, 2);
  });

  it("prints kubeadm's table with TTL, <forever> and <invalid>", () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const secret = (id: string, data: Record<string, string>) => ({
      data: Object.fromEntries(
        Object.entries({ 'token-id': id, 'token-secret': '0123456789abcdef', ...data }).map(([k, v]) => [k, b64(v)])
      ),
    });
    const now = new Date('2026-01-01T00:00:00Z');
    const out = formatTokenTable(
      [
        secret('aaaaaa', { expiration: '2026-01-01T23:00:00Z', 'usage-bootstrap-authentication': 'true' }),
        secret('bbbbbb', { 'usage-bootstrap-signing': 'true', description: 'signing only' }),
        secret('cccccc', { expiration: '2025-01-01T00:00:00Z' }),
      ],
      now
    ).split('\n');
    assert.match(out[0]!, /^TOKEN\s{3,}TTL\s{3,}EXPIRES\s{3,}USAGES\s{3,}DESCRIPTION\s{3,}EXTRA GROUPS$/);
    assert.match(out[1]!, /^aaaaaa\.0123456789abcdef\s+23h\s+2026-01-01T23:00:00Z\s+authentication\s+<none>$/);
    assert.match(out[2]!, /^bbbbbb\.0123456789abcdef\s+<forever>\s+<never>\s+signing\s+signing only$/);
    assert.match(out[3]!, /^cccccc\.0123456789abcdef\s+<invalid>/);
  });
});
