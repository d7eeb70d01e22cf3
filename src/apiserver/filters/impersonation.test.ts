// Impersonation: which checks are made, what user the request continues as, and the refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes, Authorizer, UserInfo } from '../authz/interface.js';
import type { Request, RequestContext } from '../context.js';
import { withImpersonation } from './impersonation.js';

function run(headers: [string, string][], allow: (a: Attributes) => boolean) {
  const asked: Attributes[] = [];
  const authz: Authorizer = {
    authorize: async (a) => {
      asked.push(a);
      return { decision: allow(a) ? 'allow' : 'noOpinion', reason: '' };
    },
  };
  let seen: UserInfo | undefined;
  let seenHeaders: Record<string, unknown> = {};
  const req = {
    rawHeaders: headers.flat(),
    headers: Object.fromEntries(headers.map(([k, v]) => [k.toLowerCase(), v])),
  } as unknown as Request;
  const ctx = { user: { name: 'alice', groups: ['devs', 'system:authenticated'] } } as RequestContext;
  const h = withImpersonation(async (c, r) => {
    seen = c.user;
    seenHeaders = r.headers;
  }, authz);
  return h(ctx, req, {} as never).then(() => ({ asked, user: seen, headers: seenHeaders }));
}

const brief = (a: Attributes): string =>
  `${a.verb} ${a.apiGroup}/${a.resource}${a.subresource ? '/' + a.subresource : ''} ${a.namespace}/${a.name} by ${a.user.name}`;

describe('impersonation', () => {
  it('checks user, each group, extra and uid, then continues as the impersonated user', async () => {
    const r = await run(
      [
        ['Impersonate-User', 'bob'],
        ['Impersonate-Group', 'g1'],
        ['Impersonate-Group', 'g2'],
        ['Impersonate-Extra-Scopes', 'view'],
        ['Impersonate-Uid', 'u-1'],
      ],
      () => true
    );
    assert.deepEqual(r.asked.map(brief), [
      'impersonate /users /bob by alice',
      'impersonate /groups /g1 by alice',
      'impersonate /groups /g2 by alice',
      'impersonate authentication.k8s.io/userextras/scopes /view by alice',
      'impersonate authentication.k8s.io/uids /u-1 by alice',
    ]);
    assert.deepEqual(r.user, {
      name: 'bob',
      uid: 'u-1',
      groups: ['g1', 'g2', 'system:authenticated'],
      extra: { scopes: ['view'] },
    });
    assert.equal(r.headers['impersonate-user'], undefined);
  });

  it('a service account is checked in its namespace and gets its groups when none are asked for', async () => {
    const r = await run([['Impersonate-User', 'system:serviceaccount:ci:builder']], () => true);
    assert.deepEqual(r.asked.map(brief), ['impersonate /serviceaccounts ci/builder by alice']);
    assert.deepEqual(r.user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']);
    const anon = await run([['Impersonate-User', 'system:anonymous']], () => true);
    assert.deepEqual(anon.user?.groups, ['system:unauthenticated']);
  });

  it('refuses with 403 naming the check, and groups without a user with 400', async () => {
    await assert.rejects(
      run(
        [
          ['Impersonate-User', 'bob'],
          ['Impersonate-Group', 'system:masters'],
        ],
        (a) => a.resource === 'users'
      ),
      (err: Error & { code?: number }) =>
        err.code === 403 &&
        err.message ===
          'groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope'
    );
    await assert.rejects(
      run([['Impersonate-Group', 'g']], () => true),
      (err: Error & { code?: number }) => err.code === 400
    );
    const none = await run([], () => false);
    assert.equal(none.user?.name, 'alice');
    assert.equal(none.asked.length, 0);
  });
});
