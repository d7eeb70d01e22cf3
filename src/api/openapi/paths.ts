// Swagger 2.0 paths for served resources, shaped like upstream's (k8s.io/apiserver/pkg/endpoints/installer.go):
// operation ids, x-kubernetes-action and x-kubernetes-group-version-kind per operation, and the query parameters
// kubectl looks for (fieldValidation on patch decides whether kubectl leaves validation to the server).
import { definitionName, type GroupVersionKind, type Schema } from './definitions.js';
import type { OpenAPIResource } from './resource.js';

const metaV1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

function query(name: string, type: string, description: string, extra: Schema = {}): Schema {
  return { name, in: 'query', description, type, uniqueItems: true, ...extra };
}

const p = {
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: query(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'
  ),
  fieldManager: query(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'
  ),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore: drop unknown fields silently. - Warn: drop them and send a warning header for each (the default). - Strict: fail the request with a BadRequest error when any unknown or duplicate field is found.'
  ),
  force: query(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.'
  ),
  gracePeriodSeconds: query(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used.'
  ),
  orphanDependents: query(
    'orphanDependents',
    'boolean',
    'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned.'
  ),
  propagationPolicy: query(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background' and 'Foreground'."
  ),
  allowWatchBookmarks: query(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag.'
  ),
  continue: query(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server. Its value is the opaque token a previous list call returned in metadata.continue.'
  ),
  fieldSelector: query(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields. Defaults to everything.'
  ),
  labelSelector: query(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels. Defaults to everything.'
  ),
  limit: query(
    'limit',
    'integer',
    'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'
  ),
  resourceVersion: query(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.'
  ),
  resourceVersionMatch: query(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set.'
  ),
  sendInitialEvents: query(
    'sendInitialEvents',
    'boolean',
    '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.'
  ),
  timeoutSeconds: query(
    'timeoutSeconds',
    'integer',
    'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'
  ),
  watch: query(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'
  ),
  name: (kind: string): Schema => ({
    name: 'name',
    in: 'path',
    required: true,
    description: `name of the ${kind}`,
    type: 'string',
    uniqueItems: true,
  }),
  namespace: {
    name: 'namespace',
    in: 'path',
    required: true,
    description: 'object name and auth scope, such as for teams and projects',
    type: 'string',
    uniqueItems: true,
  },
  body: (schema: Schema): Schema => ({ name: 'body', in: 'body', required: true, schema }),
};

const listParams = [
  p.allowWatchBookmarks,
  p.continue,
  p.fieldSelector,
  p.labelSelector,
  p.limit,
  p.resourceVersion,
  p.resourceVersionMatch,
  p.sendInitialEvents,
  p.timeoutSeconds,
  p.watch,
];
const writeParams = [p.dryRun, p.fieldManager, p.fieldValidation];
const deleteParams = [p.dryRun, p.gracePeriodSeconds, p.orphanDependents, p.propagationPolicy];

const produces = ['application/json', 'application/yaml'];
const watchProduces = [...produces, 'application/json;stream=watch'];
export const patchContentTypes = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** `CoreV1`, `RbacAuthorizationV1`: the group/version part of upstream's operation ids. */
function opGroup(group: string, version: string): string {
  const words = group ? group.replace(/\.k8s\.io$/, '').split('.') : ['core'];
  return [...words, version].map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** `core_v1`, `rbacAuthorization_v1`: upstream's tags. */
function tag(group: string, version: string): string {
  const words = group ? group.replace(/\.k8s\.io$/, '').split('.') : ['core'];
  return `${words.map((w, i) => (i ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join('')}_${version}`;
}

const responses = (codes: number[], schema: Schema | undefined): Schema =>
  Object.fromEntries([
    ...codes.map((c) => [String(c), { description: c === 201 ? 'Created' : c === 202 ? 'Accepted' : 'OK', schema }]),
    ['401', { description: 'Unauthorized' }],
  ]);

/** Subresources whose body is the parent kind (upstream serves get/replace/patch for them). */
const sameKindSubresources = new Set(['status', 'approval', 'ephemeralcontainers', 'resize']);
/** Subresources created by POSTing another kind. */
const createSubresources: Record<string, GroupVersionKind> = {
  binding: { group: '', version: 'v1', kind: 'Binding' },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction' },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
};

/** The swagger `paths` entries for one resource (and its subresources). */
export function resourcePaths(r: OpenAPIResource): Record<string, Schema> {
  const defName = definitionName(r) ?? `${metaV1}.Status`;
  const gvk = { group: r.group, kind: r.kind, version: r.version };
  const kindSchema = ref(defName);
  const listSchema = ref(definitionName({ ...r, kind: `${r.kind}List` }) ?? `${metaV1}.Status`);
  const verbs = new Set(r.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  const base = `${r.group ? `/apis/${r.group}` : '/api'}/${r.version}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const scope = r.namespaced ? 'Namespaced' : '';
  const g = opGroup(r.group, r.version);
  const tags = [tag(r.group, r.version)];
  const scopeParams = r.namespaced ? [p.namespace] : [];
  const op = (id: string, action: string, extra: Schema, opGvk: Schema = gvk): Schema => ({
    consumes: ['*/*'],
    produces,
    schemes: ['https'],
    tags,
    operationId: id,
    ...extra,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': opGvk,
  });
  const readWrite = (suffix: string): Schema => ({
    ...(verbs.has('get') && {
      get: op(`read${g}${scope}${r.kind}${suffix}`, 'get', {
        description: `read the specified ${r.kind}`,
        responses: responses([200], kindSchema),
      }),
    }),
    ...(verbs.has('update') && {
      put: op(`replace${g}${scope}${r.kind}${suffix}`, 'put', {
        description: `replace the specified ${r.kind}`,
        parameters: [p.body(kindSchema), ...writeParams],
        responses: responses([200, 201], kindSchema),
      }),
    }),
    ...(verbs.has('patch') && {
      patch: op(`patch${g}${scope}${r.kind}${suffix}`, 'patch', {
        description: `partially update the specified ${r.kind}`,
        consumes: patchContentTypes,
        parameters: [p.body(ref(`${metaV1}.Patch`)), ...writeParams, p.force],
        responses: responses([200, 201], kindSchema),
      }),
    }),
  });

  const paths: Record<string, Schema> = {};
  const coll: Schema = {
    ...(verbs.has('list') && {
      get: op(`list${g}${scope}${r.kind}`, 'list', {
        description: `list or watch objects of kind ${r.kind}`,
        produces: watchProduces,
        parameters: listParams,
        responses: responses([200], listSchema),
      }),
    }),
    ...(verbs.has('create') && {
      post: op(`create${g}${scope}${r.kind}`, 'post', {
        description: `create ${article(r.kind)} ${r.kind}`,
        parameters: [p.body(kindSchema), ...writeParams],
        responses: responses([200, 201, 202], kindSchema),
      }),
    }),
    ...(verbs.has('deletecollection') && {
      delete: op(`delete${g}Collection${scope}${r.kind}`, 'deletecollection', {
        description: `delete collection of ${r.kind}`,
        parameters: [p.body(ref(`${metaV1}.DeleteOptions`)), ...listParams, ...deleteParams],
        responses: responses([200], ref(`${metaV1}.Status`)),
      }),
    }),
  };
  if (Object.keys(coll).length) paths[collection] = { ...coll, parameters: [...scopeParams, p.pretty] };
  const item: Schema = {
    ...readWrite(''),
    ...(verbs.has('delete') && {
      delete: op(`delete${g}${scope}${r.kind}`, 'delete', {
        description: `delete ${article(r.kind)} ${r.kind}`,
        parameters: [p.body(ref(`${metaV1}.DeleteOptions`)), ...deleteParams],
        responses: responses([200, 202], ref(`${metaV1}.Status`)),
      }),
    }),
  };
  const itemParams = [p.name(r.kind), ...scopeParams, p.pretty];
  if (Object.keys(item).length) paths[`${collection}/{name}`] = { ...item, parameters: itemParams };
  if (r.namespaced && verbs.has('list')) {
    paths[`${base}/${r.resource}`] = {
      get: op(`list${g}${r.kind}ForAllNamespaces`, 'list', {
        description: `list or watch objects of kind ${r.kind}`,
        produces: watchProduces,
        responses: responses([200], listSchema),
      }),
      parameters: [...listParams, p.pretty],
    };
  }

  for (const sub of r.subresources ?? []) {
    const subPath = `${collection}/{name}/${sub}`;
    const suffix = sub.charAt(0).toUpperCase() + sub.slice(1);
    const created = createSubresources[sub];
    if (sameKindSubresources.has(sub)) {
      paths[subPath] = { ...readWrite(suffix), parameters: itemParams };
    } else if (created) {
      const body = ref(definitionName(created) ?? `${metaV1}.Status`);
      paths[subPath] = {
        post: op(
          `create${g}${scope}${r.kind}${suffix}`,
          'post',
          {
            description: `create ${sub} of ${article(r.kind)} ${r.kind}`,
            parameters: [p.body(body), ...writeParams],
            responses: responses([200, 201, 202], body),
          },
          created
        ),
        parameters: itemParams,
      };
    } else {
      // log, exec, attach, portforward, proxy: streams, not objects (upstream's "connect" actions).
      const optionsKind = `${r.kind}${sub === 'portforward' ? 'PortForward' : suffix}Options`;
      const connect = (method: string): Schema =>
        op(
          `connect${g}${method}${scope}${r.kind}${suffix}`,
          sub === 'log' ? 'get' : 'connect',
          {
            description: `connect ${method} requests to ${sub} of ${r.kind}`,
            produces: ['*/*'],
            responses: responses([200], { type: 'string' }),
          },
          { group: r.group, kind: optionsKind, version: r.version }
        );
      paths[subPath] = {
        get: connect('Get'),
        ...(sub !== 'log' && { post: connect('Post') }),
        parameters: itemParams,
      };
    }
  }
  return paths;
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}
