import { stringify } from 'yaml';

/** Options for {@link kubeconfig}. */
export interface KubeconfigOptions {
  /** The API server URL, `https://host:port`. */
  server: string;
  /** The cluster CA certificate (PEM) the client verifies the server with. */
  caPem: string;
  /** The client certificate (PEM) the client authenticates with. */
  clientCertPem: string;
  /** The client certificate's private key (PEM). */
  clientKeyPem: string;
  /** @default 'admin' */
  user?: string;
  /** @default 'hubspoke' */
  cluster?: string;
  /** @default 'hubspoke' */
  context?: string;
}

const base64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/**
 * Renders a kubeconfig (`apiVersion: v1`, `kind: Config`) with one cluster, one user and one context, current,
 * the CA and client credentials embedded as base64 `*-data` fields so the file stands alone. It holds a private
 * key: write it with `writeKeyFile` (0600).
 */
export function kubeconfig(options: KubeconfigOptions): string {
  const cluster = options.cluster ?? 'hubspoke';
  const user = options.user ?? 'admin';
  const context = options.context ?? 'hubspoke';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: cluster, cluster: { server: options.server, 'certificate-authority-data': base64(options.caPem) } },
    ],
    users: [
      {
        name: user,
        user: {
          'client-certificate-data': base64(options.clientCertPem),
          'client-key-data': base64(options.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: context, context: { cluster, user } }],
    'current-context': context,
    preferences: {},
  });
}
