// --anonymous-auth (k8s apiserver authentication/request/anonymous), off by default in hubspoke: when on, a
// request with no credential at all is system:anonymous in system:unauthenticated, left to authorization. A
// request with a bad credential is still a 401 (upstream's FailOnError): anonymous never hides a broken token.
import type { Authenticator } from './interface.js';

export const anonymousUser = 'system:anonymous';
export const unauthenticatedGroup = 'system:unauthenticated';

export function withAnonymous(a: Authenticator): Authenticator {
  return {
    async authenticate(req) {
      return (await a.authenticate(req)) ?? { name: anonymousUser, groups: [unauthenticatedGroup] };
    },
  };
}
