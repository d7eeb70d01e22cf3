// The authentication seam (k8s apiserver pkg/authentication/authenticator): a request in, a user or null out.
import type { Request } from '../context.js';
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

/** Every authenticated user is in system:authenticated (upstream's AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(a: Authenticator): Authenticator {
  return {
    async authenticate(req) {
      const user = await a.authenticate(req);
      if (!user || user.groups.includes('system:authenticated') || user.name === 'system:anonymous') return user;
      return { ...user, groups: [...user.groups, 'system:authenticated'] };
    },
  };
}
