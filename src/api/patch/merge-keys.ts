// Patch metadata: what upstream's Go struct tags and OpenAPI list annotations say about each field. Two readers:
// strategic merge patch uses `patchStrategy`/`patchMergeKey` (k8s.io/api struct tags); server-side apply uses
// `+listType`/`+listMapKey` (structured-merge-diff). They mostly agree but not always (Service ports are merged
// by `port` in SMP but keyed by port+protocol in SSA; ServiceAccount imagePullSecrets and Endpoint addresses
// differ), so both are recorded. Lists that appear nowhere here replace in SMP and are atomic in SSA.

export interface PatchField {
  /** SMP: `merge` merges a list (by patchMergeKey, or as a set of primitives); `replace` replaces a map whole. */
  patchStrategy?: 'merge' | 'replace';
  /** SMP: the `retainKeys` strategy (PodSpec.volumes), honoured through the `$retainKeys` directive. */
  retainKeys?: boolean;
  /** SMP: the field naming a list item. */
  patchMergeKey?: string;
  /** SSA: `map` lists are keyed by listMapKeys, `set` lists hold distinct primitives; the default is atomic. */
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: readonly string[];
  /** SSA: defaults of key fields (a container port's protocol is TCP when omitted). */
  listMapKeyDefaults?: Readonly<Record<string, string | number>>;
  /** The fields of the value (a map) or of each item (a list). */
  fields?: PatchSchema;
}

/** Field name → metadata, for one level of an object. Fields not listed carry no patch metadata. */
export interface PatchSchema {
  readonly [field: string]: PatchField;
}

/** A list merged by `key` in SMP and keyed by `ssaKeys` (default: the same key) in SSA. */
function keyed(key: string, fields?: PatchSchema, ssaKeys: readonly string[] = [key]): PatchField {
  const f: PatchField = { patchStrategy: 'merge', patchMergeKey: key, listType: 'map', listMapKeys: ssaKeys };
  if (fields) f.fields = fields;
  return f;
}

const mergedSet: PatchField = { patchStrategy: 'merge', listType: 'set' };
const conditions = keyed('type');
const withProtocol = (key: string): PatchField => ({
  ...keyed(key, undefined, [key, 'protocol']),
  listMapKeyDefaults: { protocol: 'TCP' },
});

export const objectMetaSchema: PatchSchema = {
  finalizers: mergedSet,
  ownerReferences: keyed('uid'),
};

const container: PatchSchema = {
  ports: withProtocol('containerPort'),
  env: keyed('name'),
  volumeMounts: keyed('mountPath'),
  volumeDevices: keyed('devicePath'),
  resources: { fields: { claims: { listType: 'map', listMapKeys: ['name'] } } },
};

export const podSpecSchema: PatchSchema = {
  volumes: { ...keyed('name'), retainKeys: true },
  initContainers: keyed('name', container),
  containers: keyed('name', container),
  ephemeralContainers: keyed('name', container),
  imagePullSecrets: keyed('name'),
  hostAliases: keyed('ip'),
  topologySpreadConstraints: keyed('topologyKey', undefined, ['topologyKey', 'whenUnsatisfiable']),
  schedulingGates: keyed('name'),
  resourceClaims: { ...keyed('name'), retainKeys: true },
};

const podStatus: PatchSchema = {
  conditions,
  // SMP merges hostIPs by ip but SSA treats the list as atomic.
  hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip' },
  podIPs: keyed('ip'),
  resourceClaimStatuses: { ...keyed('name'), retainKeys: true },
};

const podTemplateSpec: PatchSchema = {
  metadata: { fields: objectMetaSchema },
  spec: { fields: podSpecSchema },
};

const statusConditions: PatchSchema = { status: { fields: { conditions } } };
const templateSpec: PatchField = { fields: { template: { fields: podTemplateSpec } } };
const templated: PatchSchema = { spec: templateSpec, ...statusConditions };

/** Per-kind schemas without metadata; keyed by `group/Kind` (core group is empty). */
const kinds: Record<string, PatchSchema> = {
  '/Pod': { spec: { fields: podSpecSchema }, status: { fields: podStatus } },
  '/PodTemplate': { template: { fields: podTemplateSpec } },
  '/ReplicationController': templated,
  '/Service': {
    spec: { fields: { ports: withProtocol('port') } },
    ...statusConditions,
  },
  '/Node': {
    spec: { fields: { podCIDRs: mergedSet } },
    status: { fields: { conditions, addresses: keyed('type') } },
  },
  '/Namespace': statusConditions,
  '/ServiceAccount': { secrets: keyed('name') },
  '/PersistentVolumeClaim': statusConditions,
  '/ComponentStatus': { conditions },
  'apps/Deployment': templated,
  'apps/ReplicaSet': templated,
  'apps/StatefulSet': templated,
  'apps/DaemonSet': templated,
  // JobStatus.conditions merges by type in SMP but is atomic in SSA.
  'batch/Job': { ...templated, status: { fields: { conditions: { patchStrategy: 'merge', patchMergeKey: 'type' } } } },
  'batch/CronJob': {
    spec: { fields: { jobTemplate: { fields: { metadata: { fields: objectMetaSchema }, spec: templateSpec } } } },
  },
  'certificates.k8s.io/CertificateSigningRequest': {
    status: { fields: { conditions: { listType: 'map', listMapKeys: ['type'] } } },
  },
  // EndpointSlice.endpoints[].addresses is an SSA set inside an atomic list, so it never matters.
};

const generic: PatchSchema = { metadata: { fields: objectMetaSchema } };
const cache = new Map<string, PatchSchema>();

/**
 * The patch schema of a kind. Kinds not described here (ConfigMap, Secret, Endpoints, Event, EndpointSlice,
 * Lease, RBAC, custom resources, …) get ObjectMeta's metadata only, so their lists replace in SMP and are atomic
 * in SSA. Upstream refuses strategic merge patches on custom resources (415); we apply them with this schema,
 * which behaves as a JSON merge patch except for metadata.
 */
export function patchSchemaFor(apiVersion: string, kind: string): PatchSchema {
  const slash = apiVersion.indexOf('/');
  const key = `${slash < 0 ? '' : apiVersion.slice(0, slash)}/${kind}`;
  let schema = cache.get(key);
  if (!schema) {
    const own = kinds[key];
    schema = own ? { ...generic, ...own } : generic;
    cache.set(key, schema);
  }
  return schema;
}
