// Builds the API server's authenticators from its options (k8s pkg/kubeapiserver/authenticator/config.go):
// x509 client certificates, then bearer tokens (static file → bound service-account JWTs → bootstrap tokens), in
// a union; system:authenticated for every user found; anonymous only when --anonymous-auth is on.
import type { Logger } from '../../lib/log.js';
import type { UserInfo } from '../authz/interface.js';
import { withAnonymous } from './anonymous.js';
import { bootstrapTokenAuthenticator } from './bootstrap-token.js';
import {
  bearerTokenAuthenticator,
  unionAuthenticator,
  unionTokenAuthenticator,
  withAuthenticatedGroup,
  type Authenticator,
  type TokenAuthenticator,
} from './interface.js';
import { loadServiceAccountKeys, type ServiceAccountKeys } from './serviceaccount-keys.js';
import { serviceAccountTokenAuthenticator, type ServiceAccountTokenGetter } from './serviceaccount-token.js';
import { loadTokenFile, tokenFileAuthenticator } from './token-file.js';
import { x509Authenticator } from './x509.js';

export interface AuthenticationOptions {
  anonymousAuth: boolean;
  tokenAuthFile?: string;
  enableBootstrapTokenAuth: boolean;
  serviceAccountIssuers: readonly string[];
  apiAudiences: readonly string[];
  serviceAccountKeyFiles: readonly string[];
  serviceAccountSigningKeyFile?: string;
  pkiDir: string;
}

/** What is read from disk once, at start: the static tokens and the service-account keys. */
export interface AuthenticationFiles {
  staticTokens?: ReadonlyMap<string, UserInfo>;
  serviceAccountKeys: ServiceAccountKeys;
}

export async function loadAuthenticationFiles(o: AuthenticationOptions, log: Logger): Promise<AuthenticationFiles> {
  return {
    staticTokens: o.tokenAuthFile ? await loadTokenFile(o.tokenAuthFile, log) : undefined,
    serviceAccountKeys: await loadServiceAccountKeys({
      signingKeyFile: o.serviceAccountSigningKeyFile,
      keyFiles: o.serviceAccountKeyFiles,
      pkiDir: o.pkiDir,
    }),
  };
}

export interface Authentication {
  /** The request authenticator the chain's authentication filter runs. */
  request: Authenticator;
  /** The bearer-token union alone, for TokenReview. */
  tokens: TokenAuthenticator;
}

export function buildAuthentication(
  o: AuthenticationOptions,
  files: AuthenticationFiles,
  getter: ServiceAccountTokenGetter
): Authentication {
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (files.staticTokens) tokenAuthenticators.push(tokenFileAuthenticator(files.staticTokens));
  tokenAuthenticators.push(
    serviceAccountTokenAuthenticator({ keys: files.serviceAccountKeys, issuers: o.serviceAccountIssuers, getter })
  );
  if (o.enableBootstrapTokenAuth)
    tokenAuthenticators.push(bootstrapTokenAuthenticator((ns, name) => getter.getSecret(ns, name)));
  const tokens = unionTokenAuthenticator(...tokenAuthenticators);
  const request = withAuthenticatedGroup(
    unionAuthenticator(x509Authenticator(), bearerTokenAuthenticator(tokens, o.apiAudiences))
  );
  return { request: o.anonymousAuth ? withAnonymous(request) : request, tokens };
}
