import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../resource.js';
import { defaultImagePullPolicy, podQOSClass } from './pod-defaults.js';
import { pods } from './pods.js';

const s = pods.strategy;
const fields = (errs: { field: string }[]): string[] => errs.map((e) => e.field);
const strings = (errs: { toString(): string }[]): string[] => errs.map(String);

function pod(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec };
}

function defaulted(spec: Record<string, unknown>): KubeObject {
  const p = pod(structuredClone(spec));
  s.defaults?.(p);
  return p;
}

describe('pod defaults', () => {
  it('fills what kubectl get -o yaml shows', () => {
    const p = defaulted({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] });
    assert.deepEqual(p.spec, {
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          resources: {},
        },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      securityContext: {},
      enableServiceLinks: true,
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
    });
    assert.deepEqual(p.status, { phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('is idempotent and keeps what the user set', () => {
    const once = defaulted({
      restartPolicy: 'Never',
      containers: [{ name: 'a', image: 'busybox:1.36', imagePullPolicy: 'Never' }],
    });
    const twice = structuredClone(once);
    s.defaults?.(twice);
    assert.deepEqual(twice, once);
    assert.equal((once.spec as any).restartPolicy, 'Never');
    assert.equal((once.spec as any).containers[0].imagePullPolicy, 'Never');
  });

  it('chooses imagePullPolicy from the tag', () => {
    const cases: [string, string][] = [
      ['nginx', 'Always'],
      ['nginx:latest', 'Always'],
      ['nginx:1.25', 'IfNotPresent'],
      ['localhost:5000/nginx', 'Always'],
      ['localhost:5000/nginx:1', 'IfNotPresent'],
      ['', 'IfNotPresent'],
      ['nginx@sha256:abc', 'IfNotPresent'],
    ];
    for (const [image, want] of cases) assert.equal(defaultImagePullPolicy(image), want, image);
  });

  it('defaults requests to limits, canonicalizes quantities and computes the QoS class', () => {
    const p = defaulted({
      containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '0.5', memory: 134217728 } } }],
    });
    const c = (p.spec as any).containers[0];
    assert.deepEqual(c.resources, {
      limits: { cpu: '500m', memory: '134217728' },
      requests: { cpu: '500m', memory: '134217728' },
    });
    assert.equal((p.status as any).qosClass, 'Guaranteed');
    const burstable = { containers: [{ resources: { requests: { cpu: '100m' } } }] };
    assert.equal(podQOSClass(burstable), 'Burstable');
  });

  it('copies container ports to host ports with hostNetwork, and defaults volumes', () => {
    const p = defaulted({
      hostNetwork: true,
      containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 8080 }] }],
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'c' } }],
    });
    assert.equal((p.spec as any).containers[0].ports[0].hostPort, 8080);
    assert.deepEqual((p.spec as any).volumes, [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } },
    ]);
  });
});

describe('pod validation', () => {
  const valid = { containers: [{ name: 'web', image: 'nginx' }] };

  it('accepts a minimal defaulted pod', () => {
    assert.deepEqual(s.validate?.(defaulted(valid)), []);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['containers required', { containers: [] }, ['spec.containers']],
    [
      'container name and image required',
      { containers: [{}] },
      ['spec.containers[0].name', 'spec.containers[0].image'],
    ],
    [
      'duplicate container names',
      {
        containers: [
          { name: 'a', image: 'x' },
          { name: 'a', image: 'y' },
        ],
      },
      ['spec.containers[1].name'],
    ],
    [
      'bad port',
      { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000, name: 'HTTP' }] }] },
      [
        'spec.containers[0].ports[0].name',
        'spec.containers[0].ports[0].name',
        'spec.containers[0].ports[0].containerPort',
      ],
    ],
    [
      'env name',
      { containers: [{ name: 'a', image: 'x', env: [{ name: 'A=B', value: '1' }] }] },
      ['spec.containers[0].env[0].name'],
    ],
    [
      'volume mount without volume',
      { containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      ['spec.containers[0].volumeMounts[0].name'],
    ],
    [
      'duplicate volumes',
      { containers: [{ name: 'a', image: 'x' }], volumes: [{ name: 'v' }, { name: 'v' }] },
      ['spec.volumes[1].name'],
    ],
    ['restartPolicy enum', { ...valid, restartPolicy: 'Sometimes' }, ['spec.restartPolicy']],
    [
      'quantities',
      {
        containers: [
          { name: 'a', image: 'x', resources: { requests: { cpu: 'lots', memory: '2Gi' }, limits: { memory: '1Gi' } } },
        ],
      },
      ['spec.containers[0].resources.requests[cpu]', 'spec.containers[0].resources.requests[memory]'],
    ],
    [
      'toleration',
      { ...valid, tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
      ['spec.tolerations[0].operator'],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(fields(s.validate?.(defaulted(spec)) ?? []), want));
  }

  it('gives upstream messages', () => {
    const errs = s.validate?.(
      defaulted({
        restartPolicy: 'Sometimes',
        containers: [{ name: 'a', image: 'x', resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } }],
      })
    );
    assert.deepEqual(strings(errs ?? []), [
      'spec.containers[0].resources.requests[memory]: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });
});

describe('pod update', () => {
  const old = defaulted({
    containers: [{ name: 'web', image: 'nginx:1.24', ports: [{ containerPort: 80 }] }],
    tolerations: [{ key: 'a', operator: 'Exists' }],
  });
  const change = (f: (spec: any) => void): KubeObject => {
    const next = structuredClone(old);
    f(next.spec);
    return next;
  };
  const update = (next: KubeObject) => s.validateUpdate?.(next, old) ?? [];

  it('allows image, activeDeadlineSeconds and added tolerations', () => {
    const next = change((spec) => {
      spec.containers[0].image = 'nginx:1.25';
      spec.activeDeadlineSeconds = 60;
      spec.tolerations.push({ key: 'b', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 });
    });
    assert.deepEqual(update(next), []);
  });

  it('forbids other spec changes with upstream message and a diff', () => {
    const errs = update(change((spec) => (spec.containers[0].ports[0].containerPort = 8080)));
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, 'spec');
    assert.equal(errs[0]?.type, 'FieldValueForbidden');
    assert.equal(
      errs[0]?.detail.split('\n')[0],
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'
    );
    assert.match(errs[0]?.detail ?? '', /spec\.containers\[0\]\.ports\[0\]\.containerPort: 80 -> 8080/);
  });

  it('refuses added containers, removed tolerations and a longer deadline', () => {
    assert.deepEqual(
      strings(update(change((spec) => spec.containers.push({ name: 'b', image: 'x' })))).at(-1),
      'spec.containers: Forbidden: pod updates may not add or remove containers'
    );
    assert.deepEqual(strings(update(change((spec) => (spec.tolerations = [])))), [
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
    const withDeadline = change((spec) => (spec.activeDeadlineSeconds = 10));
    const longer = structuredClone(withDeadline);
    (longer.spec as any).activeDeadlineSeconds = 20;
    assert.deepEqual(strings(s.validateUpdate?.(longer, withDeadline) ?? []), [
      'spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value',
    ]);
  });
});

describe('pod selectable fields', () => {
  it('exposes what kubelets and kubectl filter by', () => {
    const p = defaulted({ nodeName: 'n1', containers: [{ name: 'a', image: 'x' }] });
    (p.status as any).podIPs = [{ ip: '10.0.0.5' }];
    assert.deepEqual(s.selectableFields?.(p), {
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': '',
      'spec.hostNetwork': 'false',
      'status.phase': 'Pending',
      'status.podIP': '10.0.0.5',
      'status.nominatedNodeName': '',
    });
  });
});
