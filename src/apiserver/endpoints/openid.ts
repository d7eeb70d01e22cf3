// The service-account issuer's OIDC discovery documents (k8s pkg/serviceaccount/openidmetadata.go), so that
// outside parties can verify this cluster's service-account tokens: /.well-known/openid-configuration and
// /openid/v1/jwks. RBAC lets system:serviceaccounts read them (system:service-account-issuer-discovery).
import { jwks, type ServiceAccountKeys } from '../authn/serviceaccount-keys.js';
import type { RequestContext, Request, Response } from '../context.js';
import { writeBody } from './responses.js';

export const openIDConfigurationPath = '/.well-known/openid-configuration';
export const jwksPath = '/openid/v1/jwks';

export class OpenIDMetadata {
  #documents?: Promise<{ configuration: string; keySet: string }>;

  constructor(
    private readonly issuer: string,
    /** --service-account-jwks-uri, or the server's external address + /openid/v1/jwks (known once it listens). */
    private readonly jwksURI: () => string,
    private readonly keys: ServiceAccountKeys
  ) {}

  /** Upstream serves discovery only for an https issuer: any other cannot be an OIDC issuer. */
  get enabled(): boolean {
    return URL.canParse(this.issuer) && new URL(this.issuer).protocol === 'https:';
  }

  #build(): Promise<{ configuration: string; keySet: string }> {
    this.#documents ??= (async () => {
      const keySet = await jwks(this.keys);
      const algs = [...new Set(this.keys.verification.map((k) => k.alg))].sort();
      const configuration = {
        issuer: this.issuer,
        jwks_uri: this.jwksURI(),
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: algs,
      };
      return { configuration: JSON.stringify(configuration), keySet: JSON.stringify(keySet) };
    })();
    return this.#documents;
  }

  /** Serves GET of either document; false for any other path (or when disabled). */
  async serve(ctx: RequestContext, req: Request, res: Response): Promise<boolean> {
    const p = ctx.url.pathname;
    if (!this.enabled || (p !== openIDConfigurationPath && p !== jwksPath)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const docs = await this.#build();
    const [body, type] =
      p === jwksPath ? [docs.keySet, 'application/jwk-set+json'] : [docs.configuration, 'application/json'];
    writeBody(ctx, req, res, 200, body, type);
    return true;
  }
}
