// Derives upstream-named swagger 2.0 definitions from the installed kubernetes-models package, because no npm
// package ships Kubernetes' swagger.json and the API server must not download one.
//   - the .d.ts files (read with the TypeScript parser) give each type's properties, descriptions, required
//     fields, enums and references;
//   - the compiled ajv validators in `_schemas/` give what TypeScript erased: integer vs number, int32/int64,
//     byte. We learn those by probing each number/string field with a value that fails the stricter check.
// Usage: node --import tsx scripts/gen-openapi.ts  (writes src/api/openapi/generated/definitions.json)
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Schema = Record<string, any>;
type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; keyword: string; params: any }[] };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = join(root, 'node_modules/kubernetes-models');
const machineryDir = join(root, 'node_modules/@kubernetes-models/apimachinery');
const outFile = join(root, 'src/api/openapi/generated/definitions.json');
const require = createRequire(import.meta.url);

/** The kinds we serve (and review kinds for later), as kubernetes-models names them; the closure is emitted. */
const roots = [
  ...['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ServiceAccount', 'Secret', 'ConfigMap', 'Event'].flatMap(
    (k) => [`IoK8sApiCoreV1${k}`, `IoK8sApiCoreV1${k}List`]
  ),
  'IoK8sApiCoreV1Binding',
  'IoK8sApiPolicyV1Eviction',
  'IoK8sApiAuthenticationV1TokenRequest',
  'IoK8sApiEventsV1Event',
  'IoK8sApiEventsV1EventList',
  'IoK8sApiCoordinationV1Lease',
  'IoK8sApiCoordinationV1LeaseList',
  'IoK8sApiCertificatesV1CertificateSigningRequest',
  'IoK8sApiCertificatesV1CertificateSigningRequestList',
  ...['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].flatMap((k) => [
    `IoK8sApiRbacV1${k}`,
    `IoK8sApiRbacV1${k}List`,
  ]),
  'IoK8sApiDiscoveryV1EndpointSlice',
  'IoK8sApiDiscoveryV1EndpointSliceList',
  'IoK8sApiAuthenticationV1TokenReview',
  'IoK8sApiAuthenticationV1SelfSubjectReview',
  'IoK8sApiAuthorizationV1SubjectAccessReview',
  'IoK8sApiAuthorizationV1SelfSubjectAccessReview',
  'IoK8sApiAuthorizationV1SelfSubjectRulesReview',
  'IoK8sApiAuthorizationV1LocalSubjectAccessReview',
  'IoK8sApimachineryPkgApisMetaV1Status',
  'IoK8sApimachineryPkgApisMetaV1DeleteOptions',
  'IoK8sApimachineryPkgApisMetaV1WatchEvent',
  'IoK8sApimachineryPkgApisMetaV1Patch',
  'IoK8sApimachineryPkgApisMetaV1APIResourceList',
  'IoK8sApimachineryPkgApisMetaV1APIGroupList',
  'IoK8sApimachineryPkgApisMetaV1APIVersions',
];

/** Upstream's `+patchMergeKey`/`+patchStrategy`/`+listType`/`+listMapKey` markers for the well-known lists. */
const listMarkers: Record<string, Record<string, Schema>> = {
  'io.k8s.api.core.v1.PodSpec': {
    containers: merge('name'),
    initContainers: merge('name'),
    ephemeralContainers: merge('name'),
    volumes: merge('name', 'merge,retainKeys'),
    imagePullSecrets: merge('name'),
    hostAliases: { ...merge('ip'), ...mapList('ip') },
    topologySpreadConstraints: { ...merge('topologyKey'), ...mapList('topologyKey', 'whenUnsatisfiable') },
    resourceClaims: { ...merge('name', 'merge,retainKeys'), ...mapList('name') },
    schedulingGates: { ...merge('name'), ...mapList('name') },
  },
  'io.k8s.api.core.v1.Container': containerMarkers(),
  'io.k8s.api.core.v1.EphemeralContainer': containerMarkers(),
  'io.k8s.api.core.v1.PodStatus': {
    conditions: { ...merge('type'), ...mapList('type') },
    podIPs: { ...merge('ip'), ...mapList('ip') },
  },
  'io.k8s.api.core.v1.NodeStatus': {
    conditions: { ...merge('type'), ...mapList('type') },
    addresses: { ...merge('type'), ...mapList('type') },
  },
  'io.k8s.api.core.v1.NamespaceStatus': { conditions: { ...merge('type'), ...mapList('type') } },
  'io.k8s.api.core.v1.ServiceSpec': { ports: { ...merge('port'), ...mapList('port', 'protocol') } },
  'io.k8s.api.core.v1.ServiceStatus': { conditions: { ...merge('type'), ...mapList('type') } },
  'io.k8s.api.core.v1.ServiceAccount': { secrets: merge('name') },
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': { conditions: mapList('type') },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    ownerReferences: { ...merge('uid'), ...mapList('uid') },
  },
};

function merge(key: string, strategy = 'merge'): Schema {
  return { 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': strategy };
}
function mapList(...keys: string[]): Schema {
  return { 'x-kubernetes-list-map-keys': keys, 'x-kubernetes-list-type': 'map' };
}
function containerMarkers(): Record<string, Schema> {
  return {
    env: { ...merge('name'), ...mapList('name') },
    ports: { ...merge('containerPort'), ...mapList('containerPort', 'protocol') },
    volumeMounts: { ...merge('mountPath'), ...mapList('mountPath') },
    volumeDevices: merge('devicePath'),
  };
}

interface Decl {
  /** `IoK8sApiCoreV1Pod`: the package's name, also the `_schemas/` file name. */
  modelName: string;
  /** `io.k8s.api.core.v1.Pod` */
  upstreamName: string;
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
  schemasDir: string;
}

function dtsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return e.name === '_schemas' ? [] : dtsFiles(join(dir, e.name));
    return e.name.endsWith('.d.ts') && e.name !== 'index.d.ts' ? [join(dir, e.name)] : [];
  });
}

/** Every exported model, keyed by its `IIoK8s…` alias (the name other files import it by). */
function indexDeclarations(): Map<string, Decl> {
  const decls = new Map<string, Decl>();
  for (const [dir, pkgRoot] of [
    [modelsDir, modelsDir],
    [machineryDir, machineryDir],
  ] as const) {
    for (const file of dtsFiles(dir)) {
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const local = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
      for (const st of sf.statements) {
        if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) local.set(st.name.text, st);
      }
      for (const st of sf.statements) {
        if (!ts.isExportDeclaration(st) || !st.exportClause || !ts.isNamedExports(st.exportClause)) continue;
        for (const el of st.exportClause.elements) {
          const alias = el.name.text;
          const localName = el.propertyName?.text;
          const node = localName ? local.get(localName) : undefined;
          if (!alias.startsWith('IIo') || !localName || !node) continue;
          const modelName = alias.slice(1);
          const kind = localName.slice(1);
          const pkg = modelName.slice(0, modelName.length - kind.length).split(/(?=[A-Z])/);
          decls.set(alias, {
            modelName,
            upstreamName: [...pkg.map((s) => s.toLowerCase()), kind].join('.'),
            node,
            schemasDir: join(pkgRoot, '_schemas'),
          });
        }
      }
    }
  }
  return decls;
}

function jsDocText(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
  // The package escaped `*` and `*/` to keep them inside the comment; upstream's text has them plain.
  return text ? text.replaceAll('\\*', '*').replaceAll('*\\/', '*/') : undefined;
}

/** Upstream serialises these Go types as strings (kube-openapi OpenAPISchemaType/OpenAPISchemaFormat). */
const primitiveOverrides: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
};
/** meta/v1 kinds type apiVersion as plain string in the package; upstream registers them in the core group. */
const metaKinds: Record<string, Schema> = Object.fromEntries(
  ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList', 'APIGroupList', 'APIGroup', 'APIVersions'].map(
    (kind) => [`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`, { group: '', kind, version: 'v1' }]
  )
);
/** The package has no doc comment on Quantity; this is the first paragraph of upstream's. */
const quantityDescription =
  'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the "" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= "+" | "-" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | "" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn\'t choose the capitalization.)\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber> ```';

class Generator {
  readonly definitions: Record<string, Schema> = {};
  readonly #decls = indexDeclarations();
  readonly #pending: string[] = [];
  readonly #typeMetaDocs: Record<string, string | undefined>;

  constructor() {
    // Top-level kinds in the package have undocumented apiVersion/kind; DeleteOptions carries upstream's text.
    const deleteOptions = this.#decl('IIoK8sApimachineryPkgApisMetaV1DeleteOptions').node as ts.InterfaceDeclaration;
    this.#typeMetaDocs = Object.fromEntries(
      deleteOptions.members.filter(ts.isPropertySignature).map((m) => [propName(m), jsDocText(m)])
    );
  }

  run(): void {
    for (const r of roots) this.#want(`I${r}`);
    for (let alias = this.#pending.pop(); alias; alias = this.#pending.pop()) {
      const d = this.#decl(alias);
      this.definitions[d.upstreamName] = this.#definition(d);
    }
  }

  #decl(alias: string): Decl {
    const d = this.#decls.get(alias);
    if (!d) throw new Error(`kubernetes-models has no ${alias}`);
    return d;
  }

  #want(alias: string): string {
    const d = this.#decl(alias);
    if (!(d.upstreamName in this.definitions) && !this.#pending.includes(alias)) {
      this.definitions[d.upstreamName] = {}; // placeholder keeps cycles from re-queueing
      this.#pending.push(alias);
    }
    return `#/definitions/${d.upstreamName}`;
  }

  #definition(d: Decl): Schema {
    const description = jsDocText(d.node) ?? (d.upstreamName.endsWith('.Quantity') ? quantityDescription : undefined);
    const override = primitiveOverrides[d.upstreamName];
    if (override) return { description, ...override };
    if (!ts.isInterfaceDeclaration(d.node)) throw new Error(`${d.modelName}: unexpected type alias`);
    const validate = (require(join(d.schemasDir, `${d.modelName}.js`)) as { validate: Validate }).validate;
    const props = d.node.members.filter(ts.isPropertySignature);
    const gvk = groupVersionKind(props) ?? metaKinds[d.upstreamName];
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const p of props) {
      const name = propName(p);
      const isTypeMeta = gvk && (name === 'apiVersion' || name === 'kind');
      if (!p.questionToken && !isTypeMeta) required.push(name);
      const doc = jsDocText(p) ?? (isTypeMeta ? this.#typeMetaDocs[name] : undefined);
      const schema = isTypeMeta ? { type: 'string' } : this.#schema(p.type!, validate, [name]);
      const withDoc = doc ? { description: doc, ...schema } : schema;
      properties[name] = { ...withDoc, ...listMarkers[d.upstreamName]?.[name] };
    }
    return {
      description,
      type: 'object',
      ...(required.length ? { required } : {}),
      ...(props.length ? { properties } : {}),
      ...(gvk ? { 'x-kubernetes-group-version-kind': [gvk] } : {}),
    };
  }

  /** `path` is the JSON path from the object to this value, used to probe the ajv validator. */
  #schema(t: ts.TypeNode, validate: Validate, path: (string | number)[]): Schema {
    if (t.kind === ts.SyntaxKind.StringKeyword) return { type: 'string', ...probe(validate, path, '!!!') };
    if (t.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
    if (t.kind === ts.SyntaxKind.NumberKeyword) return probeNumber(validate, path);
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: this.#schema(t.elementType, validate, [...path, 0]) };
    if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) {
      const name = t.typeName.text;
      const arg = t.typeArguments?.[0];
      if (name === 'Array' && arg) return { type: 'array', items: this.#schema(arg, validate, [...path, 0]) };
      return { $ref: this.#want(name) };
    }
    if (ts.isTypeLiteralNode(t)) {
      const index = t.members.find(ts.isIndexSignatureDeclaration);
      if (index && t.members.length === 1) {
        return { type: 'object', additionalProperties: this.#schema(index.type, validate, [...path, 'k']) };
      }
      if (t.members.length === 0) return { type: 'object' };
    }
    if (ts.isUnionTypeNode(t) && t.types.every((u) => ts.isLiteralTypeNode(u) && ts.isStringLiteral(u.literal))) {
      return { type: 'string', enum: t.types.map((u) => ((u as ts.LiteralTypeNode).literal as ts.StringLiteral).text) };
    }
    if (t.kind === ts.SyntaxKind.AnyKeyword || t.kind === ts.SyntaxKind.UnknownKeyword) return { type: 'object' };
    throw new Error(`unsupported type ${ts.SyntaxKind[t.kind]} at ${path.join('.')}: ${t.getText()}`);
  }
}

function propName(p: ts.PropertySignature): string {
  return ts.isStringLiteral(p.name) || ts.isIdentifier(p.name) ? p.name.text : p.name.getText();
}

/** Kinds in the package type apiVersion/kind as string literals; that literal is the GVK. */
function groupVersionKind(props: ts.PropertySignature[]): Schema | undefined {
  const literal = (n: string) => {
    const t = props.find((p) => propName(p) === n)?.type;
    return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
  };
  const apiVersion = literal('apiVersion');
  const kind = literal('kind');
  if (!apiVersion || !kind) return undefined;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group, kind, version };
}

/** Validates an object holding `value` at `path` and returns the errors reported at exactly that path. */
function errorsAt(validate: Validate, path: (string | number)[], value: unknown): NonNullable<Validate['errors']> {
  let data: unknown = value;
  for (const seg of [...path].reverse()) data = typeof seg === 'number' ? [data] : { [seg]: data };
  validate(data);
  const at = '/' + path.join('/');
  return (validate.errors ?? []).filter((e) => e.instancePath === at);
}

function probe(validate: Validate, path: (string | number)[], value: unknown): Schema {
  const format = errorsAt(validate, path, value).find((e) => e.keyword === 'format')?.params.format;
  return format ? { format } : {};
}

/** 1.5 fails `type: integer` and every integer format, and passes `type: number` (upstream's doubles). */
function probeNumber(validate: Validate, path: (string | number)[]): Schema {
  const errors = errorsAt(validate, path, 1.5);
  if (!errors.some((e) => e.keyword === 'type')) return { type: 'number', format: 'double' };
  const format = errors.find((e) => e.keyword === 'format')?.params.format;
  return { type: 'integer', ...(format ? { format } : {}) };
}

const gen = new Generator();
gen.run();
const sorted = Object.fromEntries(Object.entries(gen.definitions).sort(([a], [b]) => a.localeCompare(b)));
const modelsVersion = (JSON.parse(readFileSync(join(modelsDir, 'package.json'), 'utf8')) as { version: string })
  .version;
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      'x-generated-by': 'scripts/gen-openapi.ts, do not edit',
      'x-source': `kubernetes-models@${modelsVersion}`,
      definitions: sorted,
    },
    null,
    1
  ) + '\n'
);
console.log(`wrote ${Object.keys(sorted).length} definitions to ${relative(root, outFile)}`);
