// Reads a kubeconfig (the current context's cluster and user) into a KubeClient configuration: inline `*-data`
// fields or file paths (relative to the kubeconfig's directory, as client-go resolves them).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ClientConfig } from './kube-client.js';

interface Named<T> {
  name: string;
  [k: string]: T | string;
}

async function material(base: string, data: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFile(resolve(base, file), 'utf8');
  return undefined;
}

export async function loadKubeconfig(path: string): Promise<ClientConfig> {
  const doc = parse(await readFile(path, 'utf8')) as Record<string, any>;
  const base = dirname(path);
  const ctxName = doc['current-context'] as string | undefined;
  const ctx = (doc.contexts as Named<any>[] | undefined)?.find((c) => c.name === ctxName)?.context ?? {};
  const cluster = (doc.clusters as Named<any>[] | undefined)?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = (doc.users as Named<any>[] | undefined)?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server)
    throw new Error(`${path}: the current context "${ctxName ?? ''}" names no cluster with a server`);
  const caPem = await material(base, cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!caPem) throw new Error(`${path}: the cluster has no certificate-authority: hubspoke verifies the API server`);
  return {
    server: cluster.server,
    caPem,
    certPem: await material(base, user['client-certificate-data'], user['client-certificate']),
    keyPem: await material(base, user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? (await readFile(resolve(base, user.tokenFile), 'utf8')).trim() : undefined),
  };
}
