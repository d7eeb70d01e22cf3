import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/resource.js';
import { services } from '../../api/resources/core/services.js';
import { denyServiceExternalIPs } from './deny-service-external-ips.js';
import type { AdmissionAttributes } from './interface.js';

const svc = (externalIPs?: string[]): KubeObject => ({ metadata: { name: 'web' }, spec: { externalIPs } });
const attrs = (object: KubeObject, oldObject?: KubeObject): AdmissionAttributes => ({
  operation: oldObject ? 'UPDATE' : 'CREATE',
  def: services,
  subresource: '',
  namespace: 'default',
  name: 'web',
  object,
  oldObject,
  dryRun: false,
});
const plugin = denyServiceExternalIPs();

describe('DenyServiceExternalIPs', () => {
  test('a Service without external IPs passes', async () => {
    await plugin.validate!(attrs(svc()));
    await plugin.validate!(attrs(svc([]), svc(['192.0.2.1'])));
  });
  test('new external IPs are refused, on create and on update', async () => {
    await assert.rejects(
      plugin.validate!(attrs(svc(['192.0.2.1']))),
      /services "web" is forbidden: Use of external IPs is denied by admission control/
    );
    await assert.rejects(plugin.validate!(attrs(svc(['192.0.2.1', '192.0.2.2']), svc(['192.0.2.1']))), /denied/);
  });
  test('addresses the Service already had may stay', async () => {
    await plugin.validate!(attrs(svc(['192.0.2.1']), svc(['192.0.2.2', '192.0.2.1'])));
  });
});
