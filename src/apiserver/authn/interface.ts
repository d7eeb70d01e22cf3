// The authentication seam (k8s apiserver pkg/authentication/authenticator): a request in, a user or null out.
import type { Request } from '../context.js';
import { newUnauthorized } from '../../api/errors.js';
import type { UserInfo } from '../authz/interface.js';

export interface Authenticator {
  /** `null` when this authenticator does not apply (no credential of its kind); throws when a credential is bad. */
  authenticate(req: Request): Promise<UserInfo | null>;
}

/** Tries each in order; the first user wins; errors are collected and only reported when nobody succeeds. */
export function unionAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(req) {
      const errors: unknown[] = [];
      for (const a of authenticators) {
        try {
          const user = await a.authenticate(req);
          if (user) return user;
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length) throw errors[0];
      return null;
    },
  };
}

/** Adds system:authenticated unless the user is anonymous or already in it or in system:unauthenticated. */
export function addAuthenticatedGroup(user: UserInfo): UserInfo {
  const g = user.groups;
  if (g.includes('system:authenticated') || g.includes('system:unauthenticated') || user.name === 'system:anonymous')
    return user;
  return { ...user, groups: [...g, 'system:authenticated'] };
}

/** Every authenticated user is in system:authenticated (upstream's AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(a: Authenticator): Authenticator {
  return {
    async authenticate(req) {
      const user = await a.authenticate(req);
      return user && addAuthenticatedGroup(user);
    },
  };
}

/** A bearer token's identity and the audiences (of those asked about) it is good for. */
export interface TokenResponse {
  user: UserInfo;
  audiences: string[];
}

/**
 * The token seam (k8s authenticator.Token): `null` when the token is not of this kind (another may know it);
 * throws with the failed check ("expired", "wrong audience") when it is this kind's and bad. `audiences` are what
 * the caller needs the token to be good for: the API audiences, or a TokenReview's spec.audiences.
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenResponse | null>;
}

/** Tries each in order; the first that recognizes the token decides, errors only count if nobody does. */
export function unionTokenAuthenticator(...authenticators: TokenAuthenticator[]): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      const errors: unknown[] = [];
      for (const a of authenticators) {
        try {
          const r = await a.authenticateToken(token, audiences);
          if (r) return r;
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length) throw errors[0];
      return null;
    },
  };
}

/**
 * Static tokens and bootstrap tokens carry no audience: they are good for whatever the server itself is asked
 * (k8s authenticator.WrapAudienceAgnosticToken).
 */
export function audienceAgnostic(check: (token: string) => Promise<UserInfo | null>): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      const user = await check(token);
      return user ? { user, audiences: [...audiences] } : null;
    },
  };
}

// `Authorization: Bearer <token>`, the scheme matched without regard to case as upstream does.
const bearerRegexp = /^bearer\s+(\S+)\s*$/i;

/** Reads the bearer token and checks it for the API audiences (k8s request/bearertoken). */
export function bearerTokenAuthenticator(tokens: TokenAuthenticator, apiAudiences: readonly string[]): Authenticator {
  return {
    async authenticate(req) {
      const header = req.headers.authorization;
      if (!header) return null;
      const m = bearerRegexp.exec(header);
      if (!m) return null;
      const r = await tokens.authenticateToken(m[1]!, apiAudiences);
      // A token was presented and nobody knows it: a bad credential (401), never anonymous.
      if (!r) throw newUnauthorized('invalid bearer token');
      return r.user;
    },
  };
}
