// hubspoke: one binary, one subcommand per component (DESIGN.md "Processes"). Only src/cli exits the process.
import { runServer } from './server.js';
import { runUp } from './up.js';
import { runKubelet } from './kubelet.js';
import { runAgent } from './agent.js';
import { runKubeProxy } from './kube-proxy.js';
import { runKubeconfig } from './kubeconfig.js';
import { runToken } from './token.js';
import { UsageError } from './flags.js';

const commands: Record<string, { summary: string; run: (argv: string[]) => Promise<void> }> = {
  up: { summary: 'Run a whole cluster on this machine (API server, controllers) with embedded storage', run: runUp },
  server: { summary: 'Run the control plane: API server and controllers', run: runServer },
  apiserver: {
    summary: 'Run the API server alone (kube-apiserver flags)',
    run: (argv) => runServer(argv, { controllers: false }),
  },
  kubelet: { summary: 'Run the kubelet alone (kubelet flags): register this node and run its pods', run: runKubelet },
  agent: {
    summary: 'Join this node with a bootstrap token (hubspoke token create prints the command) and run its kubelet',
    run: runAgent,
  },
  'kube-proxy': {
    summary: 'Run the Service proxy alone (kube-proxy flags; nftables or userspace mode)',
    run: runKubeProxy,
  },
  'konnectivity-server': {
    summary: 'Run the Konnectivity server alone (upstream flags)',
    run: async (a) => (await import('./konnectivity-server.js')).runKonnectivityServer(a),
  },
  'konnectivity-agent': {
    summary: 'Run the Konnectivity agent alone (upstream flags)',
    run: async (a) => (await import('./konnectivity-agent.js')).runKonnectivityAgent(a),
  },
  token: { summary: 'Create, list and delete bootstrap tokens that nodes join with', run: runToken },
  kubeconfig: { summary: 'Issue a client-certificate kubeconfig signed by the cluster CA', run: runKubeconfig },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `hubspoke: a Kubernetes-compatible control plane and node agent, secure by default.\n\nUsage:\n  hubspoke <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun 'hubspoke <command> --help' for a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`error: unknown command "${name}" for "hubspoke"\n\n${usage()}`);
    return 1;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\nSee 'hubspoke ${name} --help'.\n`);
      return 1;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
