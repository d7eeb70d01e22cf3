// Acting as someone else (k8s apiserver endpoints/filters/impersonation.go): `Impersonate-User`,
// `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-<key>` (kubectl --as, --as-group, --as-uid). Each
// is authorized as verb `impersonate` on users, groups, serviceaccounts, uids or userextras; then the request
// continues as the impersonated user, who alone is authorized from here on.
import { newBadRequest, newForbidden } from '../../api/errors.js';
import { anonymousUser, unauthenticatedGroup } from '../authn/anonymous.js';
import { addAuthenticatedGroup } from '../authn/interface.js';
import { serviceAccountGroups, splitServiceAccountUsername } from '../authn/serviceaccount-token.js';
import { forbiddenMessage, type Attributes, type Authorizer, type UserInfo } from '../authz/interface.js';
import type { Handler, Request } from '../context.js';

const userHeader = 'impersonate-user';
const groupHeader = 'impersonate-group';
const uidHeader = 'impersonate-uid';
const extraHeaderPrefix = 'impersonate-extra-';

/**
 * Each header line's value on its own, from the raw headers: Node joins repeated headers with ", ", which would
 * merge `--as-group a --as-group b` into one group.
 */
function rawHeaders(req: Request): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!name.startsWith('impersonate-')) continue;
    out.set(name, [...(out.get(name) ?? []), raw[i + 1]!]);
  }
  return out;
}

/** One thing to be authorized: upstream's impersonation request, as the attributes it is checked with. */
type Check = Pick<Attributes, 'apiGroup' | 'apiVersion' | 'resource' | 'subresource' | 'namespace' | 'name'>;

const check = (resource: string, name: string, more: Partial<Check> = {}): Check => ({
  apiGroup: '',
  apiVersion: 'v1',
  resource,
  subresource: '',
  namespace: '',
  name,
  ...more,
});

function impersonationOf(req: Request): { user: UserInfo; checks: Check[] } | undefined {
  const h = rawHeaders(req);
  const name = h.get(userHeader)?.[0] ?? '';
  const groups = h.get(groupHeader) ?? [];
  const uid = h.get(uidHeader)?.[0];
  const extra: Record<string, string[]> = {};
  for (const [header, vals] of h) {
    // Header names are case-insensitive; keys that need other characters are percent-encoded by clients.
    if (header.startsWith(extraHeaderPrefix)) extra[decodeURIComponent(header.slice(extraHeaderPrefix.length))] = vals;
  }
  const others = groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0;
  if (!name) {
    if (others) throw newBadRequest('requested impersonation of groups, uid or extra without impersonating a user');
    return undefined;
  }
  const checks: Check[] = [];
  const user: UserInfo = { name, groups: [...groups] };
  const sa = splitServiceAccountUsername(name);
  if (sa) {
    checks.push(check('serviceaccounts', sa[1], { namespace: sa[0] }));
    // A service account without asked-for groups gets the groups its token would give it.
    if (groups.length === 0) user.groups = serviceAccountGroups(sa[0]);
  } else checks.push(check('users', name));
  for (const g of groups) checks.push(check('groups', g));
  for (const [key, vals] of Object.entries(extra))
    for (const v of vals) checks.push(check('userextras', v, { apiGroup: 'authentication.k8s.io', subresource: key }));
  if (Object.keys(extra).length) user.extra = extra;
  if (uid !== undefined) {
    checks.push(check('uids', uid, { apiGroup: 'authentication.k8s.io' }));
    user.uid = uid;
  }
  return { user, checks };
}

export function withImpersonation(next: Handler, authz: Authorizer): Handler {
  return async (ctx, req, res) => {
    const asked = impersonationOf(req);
    if (!asked) return next(ctx, req, res);
    for (const c of asked.checks) {
      const attrs: Attributes = { user: ctx.user!, verb: 'impersonate', resourceRequest: true, path: '', ...c };
      const { decision, reason } = await authz.authorize(attrs);
      if (decision !== 'allow')
        throw newForbidden({ group: c.apiGroup, resource: c.resource }, c.name, forbiddenMessage(attrs, reason));
    }
    let user = asked.user;
    if (user.name === anonymousUser) {
      if (!user.groups.includes(unauthenticatedGroup))
        user = { ...user, groups: [...user.groups, unauthenticatedGroup] };
    } else user = addAuthenticatedGroup(user);
    ctx.user = user;
    for (const header of Object.keys(req.headers)) if (header.startsWith('impersonate-')) delete req.headers[header];
    return next(ctx, req, res);
  };
}
