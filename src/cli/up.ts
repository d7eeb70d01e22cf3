// `hubspoke up`: a whole cluster on this machine in one command, on loopback only, with embedded SQLite.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { newLogger } from '../lib/log.js';
import { parseFlags } from './flags.js';
import { startControlPlane, waitForSignal } from './control-plane.js';
import { apiServerOptionsFromFlags } from './server.js';

/** Per-user default: $XDG_DATA_HOME/hubspoke or ~/.local/share/hubspoke. */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'hubspoke');
}

const upFlags = {
  'data-dir': {
    type: 'string',
    help: 'Directory for the database, certificates and kubeconfig.',
    default: defaultDataDir(),
  },
  'secure-port': { type: 'string', help: 'The port the API server listens on (127.0.0.1 only).', default: '6443' },
} as const;

export async function runUp(argv: string[]): Promise<void> {
  const f = parseFlags(argv, upFlags, 'hubspoke up [--data-dir DIR]');
  const dataDir = f['data-dir']!;
  const started = Date.now();
  const log = newLogger();
  // Everything on loopback: the service range too, so a fresh `up` never sends a packet off this machine.
  const opts = apiServerOptionsFromFlags(
    {
      'secure-port': f['secure-port'],
      'bind-address': '127.0.0.1',
      'service-cluster-ip-range': '127.96.0.0/16',
    } as never,
    dataDir
  );
  const cp = await startControlPlane(opts, log, true);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `hubspoke is up in ${secs}s: API server at ${cp.server.address}, data in ${dataDir}\n\n` +
      `  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get namespaces\n\nPress Ctrl-C to stop.\n`
  );
  await waitForSignal();
  process.stdout.write('stopping…\n');
  await cp.close();
}
