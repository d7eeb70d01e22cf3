// --anonymous-auth: off by default (no credential → 401); when on, system:anonymous is subject to RBAC, and a
// bad credential is still a 401, never anonymous.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { describe, it } from 'node:test';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';

function get(cp: TestControlPlane, path: string, token?: string): Promise<{ code: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(new URL(path, cp.url), { ca: cp.server.pki.ca.cert, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('anonymous requests', () => {
  it('are refused by default, with a Status that says only Unauthorized', async (t) => {
    const cp = await startTestControlPlane(t);
    const r = await get(cp, '/version');
    assert.equal(r.code, 401);
    assert.deepEqual(r.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('with --anonymous-auth are system:anonymous, authorized like anyone; a bad token is still 401', async (t) => {
    const cp = await startTestControlPlane(t, { anonymousAuth: true });
    assert.equal((await get(cp, '/version')).code, 200);
    const pods = await get(cp, '/api/v1/namespaces/default/pods');
    assert.equal(pods.code, 403);
    assert.match(pods.body.message, /User "system:anonymous" cannot list resource "pods"/);
    assert.equal((await get(cp, '/version', 'not-a-token')).code, 401);
    assert.equal((await get(cp, '/version', 'abcdef.0123456789abcdef')).code, 401);
  });
});
