// `hubspoke token create|list|delete` (kubeadm token): bootstrap tokens are Secrets kube-system/bootstrap-token-<id>,
// made through the API with the admin kubeconfig. `create` prints the command a new node joins with, the cluster
// CA pinned by the hash of its public key.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { humanDuration } from '../api/printers/duration.js';
import {
  bootstrapExtraGroupRegexp as extraGroupRegexp,
  bootstrapTokenNamespace as namespace,
  bootstrapTokenRegexp as tokenRegexp,
  bootstrapTokenSecretPrefix as secretPrefix,
  bootstrapTokenSecretType as secretType,
} from '../apiserver/authn/bootstrap-token.js';
import { kubeadmNodeTokenGroup } from '../apiserver/authz/bootstrap-policy.js';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { KubeClient } from '../lib/kube-client.js';
import { caCertHash } from '../pki/index.js';
import { durationFlag, parseCommandLine, UsageError } from './flags.js';
import { defaultDataDir } from './up.js';

const tokenIDRegexp = /^[a-z0-9]{6}$/;
const usages = ['authentication', 'signing'];

const clientFlags = {
  'data-dir': {
    type: 'string',
    help: 'The server data directory whose admin.kubeconfig is used.',
    default: defaultDataDir(),
  },
  kubeconfig: { type: 'string', help: 'The kubeconfig to reach the API server with (instead of --data-dir).' },
} as const;

const createFlags = {
  ...clientFlags,
  ttl: {
    type: 'string',
    help: 'The duration before the token is automatically deleted; 0 means never expires.',
    default: '24h',
  },
  description: { type: 'string', help: 'A human friendly description of how this token is used.' },
  groups: {
    type: 'string',
    help: 'Extra groups the token authenticates as (comma-separated, each system:bootstrappers:…).',
    // kubeadm's group: the default RBAC for joining nodes (CSR creation, auto-approval) is bound to it.
    default: kubeadmNodeTokenGroup,
  },
  usages: {
    type: 'string',
    help: 'Describes the ways in which this token can be used (comma-separated: authentication, signing).',
    default: usages.join(','),
  },
} as const;

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomString = (n: number): string =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A fresh `<id>.<secret>`, uniformly over [a-z0-9] from the CSPRNG. */
export function generateBootstrapToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

export interface TokenCreateOptions {
  ttlMs: number;
  description?: string;
  groups: string[];
  usages: string[];
  kubeconfig: string;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const kubeconfigPath = (f: { kubeconfig?: string; 'data-dir'?: string }): string =>
  f.kubeconfig ?? join(f['data-dir'] ?? defaultDataDir(), 'admin.kubeconfig');

export function validateTokenCreateOptions(o: TokenCreateOptions): string[] {
  const errs: string[] = [];
  for (const g of o.groups)
    if (!extraGroupRegexp.test(g)) errs.push(`--groups: "${g}" must match ${extraGroupRegexp.source}`);
  for (const u of o.usages) if (!usages.includes(u)) errs.push(`--usages: "${u}" is not one of ${usages.join(', ')}`);
  if (o.usages.length === 0) errs.push('--usages: at least one usage is required');
  return errs;
}

/** The Secret kubeadm writes for a bootstrap token (stringData: the server stores it as data). */
export function bootstrapTokenSecret(token: string, o: TokenCreateOptions, now = new Date()): Record<string, unknown> {
  const [id, secret] = token.split('.') as [string, string];
  const stringData: Record<string, string> = { 'token-id': id, 'token-secret': secret };
  if (o.description) stringData.description = o.description;
  if (o.ttlMs > 0) stringData.expiration = new Date(now.getTime() + o.ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const u of o.usages) stringData[`usage-bootstrap-${u}`] = 'true';
  if (o.groups.length) stringData['auth-extra-groups'] = o.groups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretPrefix + id, namespace },
    type: secretType,
    stringData,
  };
}

async function client(path: string): Promise<{ client: KubeClient; server: string; caPem: string }> {
  const config = await loadKubeconfig(path);
  return {
    client: new KubeClient({ ...config, userAgent: 'hubspoke-token' }),
    server: config.server,
    caPem: config.caPem,
  };
}

async function runCreate(argv: string[]): Promise<void> {
  const { flags: f, positionals } = parseCommandLine(argv, createFlags, 'hubspoke token create [TOKEN] [flags]');
  const errs: string[] = [];
  const o: TokenCreateOptions = {
    ttlMs: f.ttl === '0' ? 0 : (durationFlag('ttl', f.ttl, errs) ?? 0),
    description: f.description,
    groups: list(f.groups),
    usages: list(f.usages),
    kubeconfig: kubeconfigPath(f),
  };
  const token = positionals[0] ?? generateBootstrapToken();
  if (positionals.length > 1) errs.push('at most one token may be given');
  if (!tokenRegexp.test(token)) errs.push(`the token "${token}" does not match ${tokenRegexp.source}`);
  errs.push(...validateTokenCreateOptions(o));
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));
  const c = await client(o.kubeconfig);
  try {
    await c.client.request('POST', `/api/v1/namespaces/${namespace}/secrets`, bootstrapTokenSecret(token, o));
  } finally {
    c.client.close();
  }
  process.stdout.write(`hubspoke agent --server ${c.server} --token ${token} --ca-cert-hash ${caCertHash(c.caPem)}\n`);
}

const decode = (data: Record<string, string> | undefined, key: string): string | undefined =>
  data?.[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8');

/** kubeadm's table: TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS, tab-aligned with 3 spaces of padding. */
export function formatTokenTable(secrets: { data?: Record<string, string> }[], now = new Date()): string {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of secrets) {
    const id = decode(s.data, 'token-id');
    const secret = decode(s.data, 'token-secret');
    if (!id || !secret) continue;
    const expiration = decode(s.data, 'expiration');
    const left = expiration ? Date.parse(expiration) - now.getTime() : undefined;
    const ttl = left === undefined ? '<forever>' : Number.isNaN(left) || left <= 0 ? '<invalid>' : humanDuration(left);
    const used = usages.filter((u) => decode(s.data, `usage-bootstrap-${u}`) === 'true');
    rows.push([
      `${id}.${secret}`,
      ttl,
      expiration ?? '<never>',
      used.join(',') || '<none>',
      decode(s.data, 'description') || '<none>',
      decode(s.data, 'auth-extra-groups') ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd()
      )
      .join('\n') + '\n'
  );
}

async function runList(argv: string[]): Promise<void> {
  const { flags: f, positionals } = parseCommandLine(argv, clientFlags, 'hubspoke token list [flags]');
  if (positionals.length) throw new UsageError('error: token list takes no arguments');
  const c = await client(kubeconfigPath(f));
  try {
    const list = await c.client.get<{ items: { data?: Record<string, string> }[] }>(
      `/api/v1/namespaces/${namespace}/secrets?fieldSelector=${encodeURIComponent(`type=${secretType}`)}`
    );
    process.stdout.write(formatTokenTable(list.items));
  } finally {
    c.client.close();
  }
}

async function runDelete(argv: string[]): Promise<void> {
  const { flags: f, positionals } = parseCommandLine(
    argv,
    clientFlags,
    'hubspoke token delete TOKEN-ID|TOKEN... [flags]'
  );
  if (positionals.length === 0)
    throw new UsageError(
      'error: missing subcommand; "token delete" is missing token of form "[a-z0-9]{6}" or "[a-z0-9]{6}.[a-z0-9]{16}"'
    );
  const ids = positionals.map((t) => tokenRegexp.exec(t)?.[1] ?? t);
  const bad = ids.filter((id) => !tokenIDRegexp.test(id));
  if (bad.length)
    throw new UsageError(
      bad
        .map((b) => `error: given token "${b}" didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}.[a-z0-9]{16}"`)
        .join('\n')
    );
  const c = await client(kubeconfigPath(f));
  try {
    for (const id of ids) {
      await c.client.request('DELETE', `/api/v1/namespaces/${namespace}/secrets/${secretPrefix}${id}`);
      process.stdout.write(`bootstrap token "${id}" deleted\n`);
    }
  } finally {
    c.client.close();
  }
}

const subcommands: Record<string, (argv: string[]) => Promise<void>> = {
  create: runCreate,
  list: runList,
  delete: runDelete,
};

export async function runToken(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const usage =
    "Usage: hubspoke token create|list|delete [flags]\nRun 'hubspoke token <command> --help' for its flags.";
  if (sub === '-h' || sub === '--help' || sub === 'help') return void process.stdout.write(`${usage}\n`);
  const run = sub ? subcommands[sub] : undefined;
  if (!run) throw new UsageError(`${sub ? `error: unknown command "${sub}" for "hubspoke token"\n` : ''}${usage}`);
  await run(rest);
}
