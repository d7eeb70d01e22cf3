import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  OpenAPIService,
  buildOpenAPIV2,
  openAPIV2ProtobufType,
  buildOpenAPIV3,
  definitions,
  referencedDefinitions,
  type Schema,
} from './index.js';
import { servedResources } from './testdata.js';

const info = { version: 'v1.33.0' };
const def = (name: string): Schema => {
  const d = definitions[name];
  assert.ok(d, `missing definition ${name}`);
  return d;
};

describe('openapi definitions', () => {
  it('openapi - Pod spec.containers is a list of Container with name required', () => {
    const spec = def('io.k8s.api.core.v1.PodSpec');
    assert.ok(spec.required.includes('containers'));
    assert.deepEqual(spec.properties.containers.items, { $ref: '#/definitions/io.k8s.api.core.v1.Container' });
    assert.equal(spec.properties.containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(spec.properties.containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(spec.properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    const container = def('io.k8s.api.core.v1.Container');
    assert.deepEqual(container.required, ['name']);
    assert.match(container.properties.image.description, /Container image name/);
    assert.deepEqual(container.properties.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(container.properties.volumeMounts['x-kubernetes-patch-merge-key'], 'mountPath');
  });

  it('openapi - formats erased by TypeScript come from the ajv validators', () => {
    const cases: [string, string, Schema][] = [
      ['io.k8s.api.core.v1.ContainerPort', 'containerPort', { type: 'integer', format: 'int32' }],
      ['io.k8s.api.core.v1.PodSpec', 'activeDeadlineSeconds', { type: 'integer', format: 'int64' }],
      ['io.k8s.api.core.v1.Container', 'stdin', { type: 'boolean' }],
    ];
    for (const [name, prop, want] of cases) {
      const { description: _d, ...got } = def(name).properties[prop];
      assert.deepEqual(got, want, `${name}.${prop}`);
    }
    assert.deepEqual(def('io.k8s.api.core.v1.Secret').properties.data.additionalProperties, {
      type: 'string',
      format: 'byte',
    });
    assert.deepEqual(def('io.k8s.api.core.v1.PodSecurityContext').properties.supplementalGroups.items, {
      type: 'integer',
      format: 'int64',
    });
  });

  it('openapi - apimachinery primitives are strings as upstream', () => {
    const cases: [string, Schema][] = [
      ['io.k8s.apimachinery.pkg.apis.meta.v1.Time', { type: 'string', format: 'date-time' }],
      ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', { type: 'string', format: 'int-or-string' }],
      ['io.k8s.apimachinery.pkg.api.resource.Quantity', { type: 'string' }],
    ];
    for (const [name, want] of cases) {
      const { description, ...got } = def(name);
      assert.deepEqual(got, want, name);
      assert.ok(description, `${name} has a description`);
    }
  });

  it('openapi - every definition has a description and every ref resolves', () => {
    for (const [name, d] of Object.entries(definitions)) {
      assert.ok(d.description, `${name} description`);
      JSON.stringify(d, (k, v: unknown) => {
        if (k === '$ref') assert.ok(definitions[String(v).replace('#/definitions/', '')], `${name}: ${String(v)}`);
        return v;
      });
    }
  });

  it('openapi - every served kind and its List carry x-kubernetes-group-version-kind', () => {
    const v2 = buildOpenAPIV2(servedResources, info);
    const gvks = Object.values(v2.definitions as Record<string, Schema>).flatMap(
      (d) => (d['x-kubernetes-group-version-kind'] ?? []) as Schema[]
    );
    const kinds = servedResources.flatMap((r) =>
      (r.verbs ?? ['list']).includes('list') ? [r, { ...r, kind: `${r.kind}List` }] : [r]
    );
    for (const r of kinds) {
      assert.ok(
        gvks.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind),
        `${r.group}/${r.version} ${r.kind}`
      );
    }
  });
});

describe('openapi documents', () => {
  it('openapi - v2 paths carry actions, GVK and the write parameters', () => {
    const v2 = buildOpenAPIV2(servedResources, info);
    const item = v2.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.equal(item.patch.operationId, 'patchCoreV1NamespacedPod');
    assert.equal(item.patch['x-kubernetes-action'], 'patch');
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
    assert.ok(item.patch.consumes.includes('application/strategic-merge-patch+json'));
    assert.ok(item.patch.consumes.includes('application/apply-patch+yaml'));
    const params = (item.patch.parameters as Schema[]).map((x) => x.name);
    for (const name of ['body', 'dryRun', 'fieldManager', 'fieldValidation', 'force']) assert.ok(params.includes(name));
    assert.equal(v2.paths['/api/v1/pods'].get.operationId, 'listCoreV1PodForAllNamespaces');
    const crb = v2.paths['/apis/rbac.authorization.k8s.io/v1/clusterrolebindings'];
    assert.equal(crb.post.operationId, 'createRbacAuthorizationV1ClusterRoleBinding');
    assert.equal(
      v2.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind'].kind,
      'Binding'
    );
    const tokenReviews = v2.paths['/apis/authentication.k8s.io/v1/tokenreviews'];
    assert.deepEqual(Object.keys(tokenReviews).sort(), ['parameters', 'post']);
    assert.equal(v2.paths['/apis/authentication.k8s.io/v1/tokenreviews/{name}'], undefined);
  });

  it('openapi - v3 document uses components refs, allOf wrappers and requestBody', () => {
    const doc = buildOpenAPIV3(servedResources, 'api/v1', info)!;
    assert.equal(doc.openapi, '3.0.0');
    const schemas = doc.components.schemas as Record<string, Schema>;
    const pod = schemas['io.k8s.api.core.v1.Pod']!;
    assert.deepEqual(pod.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
    assert.match(pod.properties.spec.description, /desired behavior of the pod/);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!.oneOf, [
      { type: 'integer' },
      { type: 'string' },
    ]);
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    assert.ok(patch.parameters.some((x: Schema) => x.name === 'fieldValidation' && x.schema.type === 'string'));
    assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    // Only what api/v1 references: no rbac types, and every ref resolves within the document.
    assert.equal(schemas['io.k8s.api.rbac.v1.Role'], undefined);
    JSON.stringify(doc, (k, v: unknown) => {
      if (k === '$ref') assert.ok(schemas[String(v).replace('#/components/schemas/', '')], String(v));
      return v;
    });
    assert.equal(buildOpenAPIV3(servedResources, 'apis/apps/v1', info), undefined);
  });

  it('openapi - referencedDefinitions follows refs transitively', () => {
    const names = referencedDefinitions({ $ref: '#/definitions/io.k8s.api.coordination.v1.Lease' });
    assert.ok(names.has('io.k8s.api.coordination.v1.LeaseSpec'));
    assert.ok(names.has('io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime'));
    assert.ok(!names.has('io.k8s.api.core.v1.Pod'));
  });
});

describe('OpenAPIService', () => {
  const service = new OpenAPIService(servedResources, info);
  const get = (path: string, headers: { accept?: string; ifNoneMatch?: string } = {}) => {
    const url = new URL(path, 'http://x');
    return service.respond(url.pathname, url.searchParams, headers);
  };

  it('openapi - index lists every group/version with the sha512 of its document', () => {
    const index = JSON.parse(get('/openapi/v3')!.body!.toString());
    assert.deepEqual(Object.keys(index.paths), [
      'api/v1',
      'apis/authentication.k8s.io/v1',
      'apis/authorization.k8s.io/v1',
      'apis/certificates.k8s.io/v1',
      'apis/coordination.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/events.k8s.io/v1',
      'apis/rbac.authorization.k8s.io/v1',
    ]);
    const url: string = index.paths['apis/coordination.k8s.io/v1'].serverRelativeURL;
    const res = get(url)!;
    const hash = createHash('sha512').update(res.body!).digest('hex').toUpperCase();
    assert.equal(url, `/openapi/v3/apis/coordination.k8s.io/v1?hash=${hash}`);
    assert.equal(res.headers.ETag, `"${hash}"`);
    assert.equal(res.headers['Cache-Control'], 'public, immutable');
  });

  it('openapi - caching and negotiation follow kube-openapi', () => {
    const current = service.v3('api/v1')!;
    const cases: [string, { accept?: string; ifNoneMatch?: string }, number, Record<string, string>][] = [
      ['/openapi/v3/api/v1?hash=STALE', {}, 301, { Location: `/openapi/v3/api/v1?hash=${current.hash}` }],
      ['/openapi/v3/api/v1', { ifNoneMatch: `"${current.hash}"` }, 304, {}],
      ['/openapi/v3/api/v1', { accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' }, 406, {}],
      ['/openapi/v2', { accept: 'application/json, */*' }, 200, { 'Content-Type': 'application/json' }],
      [
        '/openapi/v2',
        { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' },
        200,
        { 'Content-Type': openAPIV2ProtobufType },
      ],
      ['/openapi/v2', { accept: 'application/yaml' }, 406, {}],
    ];
    for (const [path, headers, status, want] of cases) {
      const res = get(path, headers)!;
      assert.equal(res.status, status, path);
      for (const [k, v] of Object.entries(want)) assert.equal(res.headers[k], v, `${path} ${k}`);
    }
    assert.equal(get('/openapi/v3/apis/apps/v1'), undefined);
    assert.equal(get('/api/v1'), undefined);
    assert.equal(service.v3('api/v1'), current, 'documents are cached');
  });
});
