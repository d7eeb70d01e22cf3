import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../resource.js';
import { validateObjectMeta } from '../../validation/object-meta.js';
import { services } from './services.js';

const s = services.strategy;
const strings = (errs: { toString(): string }[]): string[] => errs.map(String);

function svc(spec: Record<string, unknown>, name = 'web'): KubeObject {
  const o: KubeObject = { metadata: { name, namespace: 'default' }, spec: structuredClone(spec) };
  s.defaults?.(o);
  return o;
}

describe('service strategy', () => {
  it('defaults as upstream', () => {
    const o = svc({ selector: { app: 'web' }, ports: [{ port: 80 }] });
    assert.deepEqual(o.spec, {
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
    });
    assert.deepEqual(o.status, { loadBalancer: {} });
    const np = svc({ type: 'NodePort', clusterIP: '10.0.0.9', ports: [{ port: 80, targetPort: 'http' }] });
    assert.equal((np.spec as any).externalTrafficPolicy, 'Cluster');
    assert.deepEqual((np.spec as any).clusterIPs, ['10.0.0.9']);
    assert.equal((np.spec as any).ports[0].targetPort, 'http');
  });

  it('validates names as DNS-1035 labels', () => {
    const errs = validateObjectMeta(svc({ ports: [{ port: 80 }] }, '1web'), services);
    assert.deepEqual(
      errs.map((e) => e.field),
      ['metadata.name']
    );
    assert.match(errs[0]?.detail ?? '', /^a DNS-1035 label must consist of/);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', { ports: [{ port: 80 }] }, []],
    ['headless without ports', { clusterIP: 'None' }, []],
    ['ports required', {}, ['spec.ports: Required value']],
    [
      'port range',
      { ports: [{ port: 0 }] },
      [
        'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        // targetPort defaulted from the port, so it is out of range too (as upstream reports).
        'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      ],
    ],
    [
      'names with several ports',
      { ports: [{ port: 80 }, { name: 'b', port: 443, protocol: 'ICMP' }] },
      [
        'spec.ports[0].name: Required value',
        'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      ],
    ],
    [
      'type enum',
      { type: 'Magic', ports: [{ port: 80 }] },
      [
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      ],
    ],
    ['externalName required', { type: 'ExternalName' }, ['spec.externalName: Required value']],
    [
      'nodePort on ClusterIP',
      { ports: [{ port: 80, nodePort: 30000 }] },
      ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    ],
    [
      'duplicate port',
      {
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 80 },
        ],
      },
      ['spec.ports[1]: Duplicate value: {"protocol":"TCP","port":80}'],
    ],
    [
      'bad cluster IP',
      { clusterIP: '10.0.0.300', ports: [{ port: 80 }] },
      ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be empty, \'None\', or a valid IP address'],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(strings(s.validate?.(svc(spec)) ?? []), want));
  }

  it('keeps the cluster IP', () => {
    const old = svc({ clusterIP: '10.0.0.1', ports: [{ port: 80 }] });
    assert.deepEqual(s.validateUpdate?.(svc({ clusterIP: '10.0.0.1', ports: [{ port: 81 }] }), old), []);
    assert.deepEqual(strings(s.validateUpdate?.(svc({ clusterIP: '10.0.0.2', ports: [{ port: 80 }] }), old) ?? []), [
      'spec.clusterIPs[0]: Invalid value: ["10.0.0.2"]: may not change once set',
    ]);
  });
});
