import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createCSR } from '../pki/index.js';
import { decideApproval, type AccessReview, type ApproverDeps, type NodeLike } from './csr-approver.js';
import { kubeletClientSigner, kubeletServingSigner, type CertificateSigningRequest } from './csr-rules.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const clientUsages = ['digital signature', 'client auth'];
const servingUsages = ['digital signature', 'server auth'];

function csrOf(
  pem: string,
  signerName: string,
  usages: string[],
  requester: { username: string; groups: string[] }
): CertificateSigningRequest {
  return { metadata: { name: 'csr-1' }, spec: { request: b64(pem), signerName, usages, ...requester } };
}

/** A reviewer allowing `create` on the listed (user or group) → subresource pairs, recording what it was asked. */
function reviewer(allowed: Record<string, string[]>): { asked: AccessReview[]; deps: ApproverDeps } {
  const asked: AccessReview[] = [];
  const nodes: Record<string, NodeLike> = {
    n1: {
      metadata: { name: 'n1' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n1.example' },
        ],
      },
    },
  };
  return {
    asked,
    deps: {
      review: async (r) => {
        asked.push(r);
        return [r.user, ...(r.groups ?? [])].some((who) =>
          (allowed[who] ?? []).includes(r.resourceAttributes.subresource)
        );
      },
      getNode: async (name) => nodes[name],
    },
  };
}

const bootstrapper = { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
const node1 = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

describe('csr approver', () => {
  let n1: string;
  let n2: string;
  before(async () => {
    n1 = (await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'] })).csr;
    n2 = (await createCSR({ commonName: 'system:node:n2', organizations: ['system:nodes'] })).csr;
  });

  it('approves a bootstrap client CSR after a nodeclient SubjectAccessReview for the requester', async () => {
    const { asked, deps } = reviewer({ 'system:bootstrappers': ['nodeclient'] });
    const d = await decideApproval(csrOf(n1, kubeletClientSigner, clientUsages, bootstrapper), deps);
    assert.deepEqual(d, {
      approve: {
        reason: 'AutoApproved',
        message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
      },
    });
    assert.deepEqual(asked, [
      {
        user: 'system:bootstrap:abcdef',
        uid: undefined,
        groups: bootstrapper.groups,
        extra: undefined,
        resourceAttributes: {
          group: 'certificates.k8s.io',
          resource: 'certificatesigningrequests',
          subresource: 'nodeclient',
          verb: 'create',
          version: '*',
        },
      },
    ]);
  });

  it('approves a renewal by the node itself after a selfnodeclient review, trying it first', async () => {
    const { asked, deps } = reviewer({ 'system:nodes': ['selfnodeclient'] });
    const d = await decideApproval(csrOf(n1, kubeletClientSigner, clientUsages, node1), deps);
    assert.deepEqual(d, {
      approve: {
        reason: 'AutoApproved',
        message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
      },
    });
    assert.deepEqual(
      asked.map((a) => a.resourceAttributes.subresource),
      ['selfnodeclient']
    );
  });

  it('leaves pending (no condition) a node asking for another node, and requesters without the permission', async () => {
    const { asked, deps } = reviewer({ 'system:nodes': ['selfnodeclient'] });
    const other = await decideApproval(csrOf(n2, kubeletClientSigner, clientUsages, node1), deps);
    assert.ok('pending' in other);
    assert.match(other.pending, /as \[nodeclient\] but subject access review was not approved/);
    assert.deepEqual(
      asked.map((a) => a.resourceAttributes.subresource),
      ['nodeclient']
    );
    const none = await decideApproval(csrOf(n1, kubeletClientSigner, clientUsages, bootstrapper), deps);
    assert.ok('pending' in none);
  });

  it('does not recognize invalid kubelet client requests, and never asks about them', async () => {
    const { asked, deps } = reviewer({ 'system:bootstrappers': ['nodeclient'] });
    const withSAN = (
      await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: ['x'] })
    ).csr;
    const admin = (await createCSR({ commonName: 'system:node:n1', organizations: ['system:masters'] })).csr;
    for (const [pem, usages] of [
      [withSAN, clientUsages],
      [admin, clientUsages],
      [n1, ['client auth']],
      [n1, ['digital signature', 'client auth', 'server auth']],
    ] as const) {
      const d = await decideApproval(csrOf(pem, kubeletClientSigner, [...usages], bootstrapper), deps);
      assert.ok('pending' in d, JSON.stringify(d));
      assert.match(d.pending, /is not a valid kubelet client request/);
    }
    assert.equal(asked.length, 0);
  });

  it('skips decided, issued, unparsable and other signers’ CSRs', async () => {
    const { deps } = reviewer({ 'system:bootstrappers': ['nodeclient'] });
    const base = csrOf(n1, kubeletClientSigner, clientUsages, bootstrapper);
    for (const csr of [
      { ...base, status: { conditions: [{ type: 'Denied', status: 'True' }] } },
      { ...base, status: { conditions: [{ type: 'Approved', status: 'True' }] } },
      { ...base, status: { certificate: 'QQ==' } },
      { ...base, spec: { ...base.spec, signerName: 'kubernetes.io/kube-apiserver-client' } },
      { ...base, spec: { ...base.spec, request: b64('garbage') } },
    ]) {
      assert.ok('pending' in (await decideApproval(csr, deps)));
    }
  });

  it('approves a kubelet serving CSR from the node itself whose SANs are its name and addresses', async () => {
    const { deps } = reviewer({});
    const good = (
      await createCSR({
        commonName: 'system:node:n1',
        organizations: ['system:nodes'],
        dnsNames: ['n1', 'n1.example'],
        ipAddresses: ['10.0.0.1'],
      })
    ).csr;
    const d = await decideApproval(csrOf(good, kubeletServingSigner, servingUsages, node1), deps);
    assert.ok('approve' in d, JSON.stringify(d));
    assert.equal(d.approve.reason, 'AutoApproved');
  });

  it('leaves serving CSRs pending for foreign names, other requesters, other nodes and bad usages', async () => {
    const { deps } = reviewer({});
    const make = async (cn: string, dnsNames: string[], ipAddresses: string[] = []): Promise<string> =>
      (await createCSR({ commonName: cn, organizations: ['system:nodes'], dnsNames, ipAddresses })).csr;
    const cases: [string, string[], { username: string; groups: string[] }, RegExp][] = [
      [await make('system:node:n1', ['n1', 'evil.example']), servingUsages, node1, /"evil.example" is not an address/],
      [await make('system:node:n1', ['n1'], ['10.9.9.9']), servingUsages, node1, /10.9.9.9 is not an address/],
      [await make('system:node:n1', ['n1']), servingUsages, bootstrapper, /is not a node/],
      [await make('system:node:n2', ['n2']), servingUsages, node1, /asked for a certificate for "system:node:n2"/],
      [await make('system:node:n1', []), servingUsages, node1, /DNS or IP subjectAltName is required/],
      [await make('system:node:n1', ['n1']), clientUsages, node1, /usages did not match/],
    ];
    for (const [pem, usages, requester, why] of cases) {
      const d = await decideApproval(csrOf(pem, kubeletServingSigner, usages, requester), deps);
      assert.ok('pending' in d, JSON.stringify(d));
      assert.match(d.pending, why);
    }
    const ghost = await decideApproval(
      csrOf(await make('system:node:n3', ['n3']), kubeletServingSigner, servingUsages, {
        username: 'system:node:n3',
        groups: ['system:nodes'],
      }),
      deps
    );
    assert.deepEqual(ghost, { pending: 'node "n3" does not exist', recheck: true });
  });
});
