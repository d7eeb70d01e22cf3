// `hubspoke kubeconfig --user NAME [--group G]...` (kubeadm kubeconfig user): a kubeconfig whose client
// certificate the cluster CA signs here, offline, with CN = the user and O = the groups (the x509 authenticator's
// mapping). It needs the CA key, so it runs on a control-plane host.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadKubeconfig } from '../lib/kubeconfig.js';
import { issueCertificate, kubeconfig, writeKeyFile } from '../pki/index.js';
import { durationFlag, parseCommandLine, UsageError } from './flags.js';
import { defaultDataDir } from './up.js';

const kubeconfigFlags = {
  user: { type: 'string', help: 'The user name the certificate authenticates as (its common name).' },
  group: { type: 'string', multiple: true, help: 'A group the user is in (its organization); repeatable.' },
  'data-dir': {
    type: 'string',
    help: 'The server data directory holding pki/ca.crt and pki/ca.key.',
    default: defaultDataDir(),
  },
  server: { type: 'string', help: 'The API server URL (default: the one in <data-dir>/admin.kubeconfig).' },
  validity: { type: 'string', help: 'How long the client certificate is valid.', default: '8760h' },
  out: { type: 'string', help: 'Write the kubeconfig to this file (mode 0600) instead of standard output.' },
} as const;

export interface KubeconfigOptions {
  user: string;
  groups: string[];
  dataDir: string;
  server?: string;
  validityMs: number;
  out?: string;
}

export function validateKubeconfigOptions(o: KubeconfigOptions): string[] {
  const errs: string[] = [];
  if (!o.user) errs.push('--user: required');
  if (o.groups.some((g) => g === '')) errs.push('--group: must not be empty');
  if (o.validityMs <= 0) errs.push('--validity: must be positive');
  if (o.server !== undefined && !/^https:\/\//.test(o.server)) errs.push(`--server: "${o.server}" is not an https URL`);
  return errs;
}

export async function runKubeconfig(argv: string[]): Promise<void> {
  const { flags: f, positionals } = parseCommandLine(
    argv,
    kubeconfigFlags,
    'hubspoke kubeconfig --user NAME [--group G]... [flags]'
  );
  const errs: string[] = positionals.length ? [`unexpected arguments: ${positionals.join(' ')}`] : [];
  const o: KubeconfigOptions = {
    user: f.user ?? '',
    groups: f.group,
    dataDir: f['data-dir'] ?? defaultDataDir(),
    server: f.server,
    validityMs: durationFlag('validity', f.validity, errs) ?? 0,
    out: f.out,
  };
  errs.push(...validateKubeconfigOptions(o));
  if (errs.length) throw new UsageError(errs.map((e) => `error: ${e}`).join('\n'));

  const pki = join(o.dataDir, 'pki');
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(join(pki, file), 'utf8');
    } catch (err) {
      throw new Error(`${join(pki, file)}: ${what} (${(err as Error).message})`);
    }
  };
  const ca = {
    cert: await read('ca.crt', 'the cluster CA certificate is needed'),
    key: await read('ca.key', 'the cluster CA key is needed to sign the client certificate'),
  };
  const server = o.server ?? (await loadKubeconfig(join(o.dataDir, 'admin.kubeconfig'))).server;
  const { cert, key } = await issueCertificate({
    ca,
    commonName: o.user,
    organizations: o.groups,
    usages: ['client'],
    validityMs: o.validityMs,
  });
  const text = kubeconfig({ server, caPem: ca.cert, clientCertPem: cert, clientKeyPem: key, user: o.user });
  if (o.out) await writeKeyFile(o.out, text);
  else process.stdout.write(text);
}
