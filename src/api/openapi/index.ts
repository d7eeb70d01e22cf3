// /openapi/v2 and /openapi/v3 for the API server: documents built once per served resource set, hashed like
// kube-openapi's handler3 (uppercase hex sha512 of the JSON), served with its caching rules.
import { createHash } from 'node:crypto';
import type { OpenAPIResource } from './resource.js';
import { encodeOpenAPIV2 } from './v2-proto.js';
import { buildOpenAPIV2, type OpenAPIInfo } from './v2.js';
import { buildOpenAPIV3, groupVersionPaths } from './v3.js';

export {
  definitionName,
  definitions,
  referencedDefinitions,
  type GroupVersionKind,
  type Schema,
} from './definitions.js';
export { groupVersionPath, type OpenAPIResource } from './resource.js';
export { encodeOpenAPIV2 } from './v2-proto.js';
export { buildOpenAPIV2, type OpenAPIInfo } from './v2.js';
export { buildOpenAPIV3, groupVersionPaths, toV3Schema } from './v3.js';

/** A serialised document and its hash (what upstream puts in `?hash=` and, quoted, in ETag). */
export interface OpenAPIDocument {
  readonly body: Buffer;
  readonly hash: string;
}

export interface OpenAPIResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** kube-openapi's v2 protobuf media type (and the deprecated spelling client-go still sends). */
export const openAPIV2ProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const protobufTypes = [openAPIV2ProtobufType, 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'];

function hashed(body: Buffer): OpenAPIDocument {
  return { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

function serialise(doc: unknown): OpenAPIDocument {
  return hashed(Buffer.from(JSON.stringify(doc)));
}

/** kube-openapi constructServerRelativeURL. */
function serverRelativeURL(gvPath: string, hash: string): string {
  return `/openapi/v3/${gvPath}?hash=${hash}`;
}

/** `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}}}` from per-group/version hashes. */
export function buildOpenAPIV3Index(hashes: ReadonlyMap<string, string>): { paths: Record<string, object> } {
  return {
    paths: Object.fromEntries(
      [...hashes].map(([gvPath, hash]) => [gvPath, { serverRelativeURL: serverRelativeURL(gvPath, hash) }])
    ),
  };
}

/** The first of `offered` that `accept` admits, in the client's order (goautoneg without q-values). */
function negotiate(accept: string | undefined, offered: readonly string[]): string | undefined {
  for (const clause of (accept || '*/*').split(',')) {
    const type = clause.split(';')[0]!.trim().toLowerCase();
    const match = offered.find((o) => type === '*/*' || type === o || type === `${o.split('/')[0]}/*`);
    if (match) return match;
  }
  return undefined;
}

/**
 * The OpenAPI documents for one set of served resources. Each document is built and hashed on first use and
 * kept: the resource set is fixed for the server's lifetime, as built-in types are upstream.
 */
export class OpenAPIService {
  readonly #resources: readonly OpenAPIResource[];
  readonly #info: OpenAPIInfo;
  readonly #gvPaths: readonly string[];
  #v2?: OpenAPIDocument;
  #v2Protobuf?: OpenAPIDocument;
  #index?: OpenAPIDocument;
  readonly #v3 = new Map<string, OpenAPIDocument>();

  constructor(resources: readonly OpenAPIResource[], info: OpenAPIInfo) {
    this.#resources = resources;
    this.#info = info;
    this.#gvPaths = groupVersionPaths(resources);
  }

  v2(): OpenAPIDocument {
    return (this.#v2 ??= serialise(buildOpenAPIV2(this.#resources, this.#info)));
  }

  v2Protobuf(): OpenAPIDocument {
    return (this.#v2Protobuf ??= hashed(encodeOpenAPIV2(buildOpenAPIV2(this.#resources, this.#info))));
  }

  v3Index(): OpenAPIDocument {
    if (!this.#index) {
      const hashes = new Map(this.#gvPaths.map((gv) => [gv, this.v3(gv)!.hash]));
      this.#index = serialise(buildOpenAPIV3Index(hashes));
    }
    return this.#index;
  }

  /** The document for `api/v1` or `apis/<group>/<version>`; undefined when that group/version is not served. */
  v3(gvPath: string): OpenAPIDocument | undefined {
    let doc = this.#v3.get(gvPath);
    if (!doc && this.#gvPaths.includes(gvPath)) {
      doc = serialise(buildOpenAPIV3(this.#resources, gvPath, this.#info));
      this.#v3.set(gvPath, doc);
    }
    return doc;
  }

  /**
   * The response for a GET of `pathname` under /openapi/, following kube-openapi's handler and handler3:
   * JSON, or protobuf for v2 only; 406 when neither is acceptable; for a group/version, 301 to the current `?hash=` when a stale one is
   * given, and `Cache-Control: public, immutable` when the given hash is current; 304 on a matching
   * If-None-Match. Undefined when `pathname` is not an OpenAPI path (or names a group/version not served).
   */
  respond(
    pathname: string,
    query: URLSearchParams,
    headers: { accept?: string; ifNoneMatch?: string }
  ): OpenAPIResponse | undefined {
    let doc: OpenAPIDocument | undefined;
    let contentType: string | undefined = negotiate(headers.accept, ['application/json']);
    const extra: Record<string, string> = {};
    if (pathname === '/openapi/v2') {
      const type = negotiate(headers.accept, ['application/json', ...protobufTypes]);
      const protobuf = type !== undefined && type !== 'application/json';
      contentType = protobuf ? openAPIV2ProtobufType : type;
      doc = protobuf ? this.v2Protobuf() : this.v2();
    } else if (pathname === '/openapi/v3') doc = this.v3Index();
    else if (pathname.startsWith('/openapi/v3/')) {
      const gvPath = pathname.slice('/openapi/v3/'.length);
      doc = this.v3(gvPath);
      if (!doc) return undefined;
      extra.Vary = 'Accept';
      const hash = query.get('hash');
      if (hash && hash !== doc.hash) {
        return { status: 301, headers: { ...extra, Location: serverRelativeURL(gvPath, doc.hash) } };
      }
      if (hash) {
        extra['Cache-Control'] = 'public, immutable';
        extra.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
      }
    }
    if (!doc) return undefined;
    if (!contentType) return { status: 406, headers: extra };
    const etag = `"${doc.hash}"`;
    const common = { ...extra, ETag: etag };
    if (headers.ifNoneMatch === etag) return { status: 304, headers: common };
    return {
      status: 200,
      headers: { ...common, 'Content-Type': contentType, 'Content-Length': String(doc.body.length) },
      body: doc.body,
    };
  }
}
