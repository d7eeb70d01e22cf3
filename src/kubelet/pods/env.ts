// A container's environment as upstream's kubelet builds it (makeEnvironmentVariables): service links first,
// then envFrom, then env in order, each `$(VAR)` in a value expanded against what came before; then the
// command and args expanded against the result.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import { fieldValue, resourceValue, type PodIPs } from './fieldpath.js';

/** An environment that cannot be built: upstream's CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/** `$(VAR)` expansion (upstream third_party/forked/golang/expansion): `$$` is a literal `$`, unknown names stay. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = lookup(name);
      out += v ?? `$(${name})`;
      i = close;
    } else out += ch;
  }
  return out;
}

/** Docker-link style variables for a service (upstream pkg/kubelet/envvars). */
export function serviceEnv(services: { metadata?: { name?: string }; spec?: any }[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    const ip = s.spec?.clusterIP as string | undefined;
    if (!ip || ip === 'None') continue;
    const name = (s.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
    const ports = (s.spec?.ports ?? []) as { name?: string; port: number; protocol?: string }[];
    env[`${name}_SERVICE_HOST`] = ip;
    if (!ports.length) continue;
    env[`${name}_SERVICE_PORT`] = String(ports[0]!.port);
    for (const p of ports)
      if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
    const first = ports[0]!;
    env[`${name}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`;
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      env[prefix] = `${proto.toLowerCase()}://${ip}:${p.port}`;
      env[`${prefix}_PROTO`] = proto.toLowerCase();
      env[`${prefix}_PORT`] = String(p.port);
      env[`${prefix}_ADDR`] = ip;
    }
  }
  return env;
}

const validEnvName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export interface EnvContext {
  client: KubeClient;
  ips: PodIPs;
  allocatable: Record<string, string>;
  /** The Services whose variables every container gets (the pod's namespace when enableServiceLinks, plus `kubernetes`). */
  services: Record<string, string>;
}

async function lookupData(
  client: KubeClient,
  ns: string,
  kind: 'configmap' | 'secret',
  name: string
): Promise<Record<string, string> | undefined> {
  try {
    const obj = await client.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/${kind}s/${name}`);
    const data = obj.data ?? {};
    if (kind === 'configmap') return data;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The environment, or ContainerConfigError with upstream's message. */
export async function containerEnv(pod: Pod, c: Container, ctx: EnvContext): Promise<Record<string, string>> {
  const ns = pod.metadata!.namespace!;
  const env: Record<string, string> = {};
  const cache = new Map<string, Record<string, string> | undefined>();
  const data = async (kind: 'configmap' | 'secret', name: string) => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, await lookupData(ctx.client, ns, kind, name));
    return cache.get(k);
  };
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const d = await data(kind, ref.name ?? '');
    if (!d) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(d)) {
      const name = (from.prefix ?? '') + k;
      if (validEnvName.test(name)) env[name] = v;
    }
  }
  const lookup = (name: string): string | undefined => env[name] ?? ctx.services[name];
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? '', lookup);
      continue;
    }
    const vf = e.valueFrom;
    let v: string | Error | undefined;
    if (vf.fieldRef) v = fieldValue(pod, vf.fieldRef.fieldPath, ctx.ips);
    else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName
        ? pod.spec?.containers.find((x) => x.name === vf.resourceFieldRef!.containerName)
        : c;
      v = target
        ? resourceValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, ctx.allocatable)
        : new Error(`container ${vf.resourceFieldRef.containerName} not found`);
    } else {
      const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
      if (!ref) continue;
      const kind = vf.configMapKeyRef ? 'configmap' : 'secret';
      const d = await data(kind, ref.name ?? '');
      if (!d) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
      }
      v = d[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          `couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name}`
        );
      }
    }
    if (v instanceof Error) throw new ContainerConfigError(v.message);
    env[e.name] = v ?? '';
  }
  return { ...ctx.services, ...env };
}

/** command + args with `$(VAR)` expanded against the container's environment. */
export function containerCommand(c: Container, env: Record<string, string>): string[] {
  const lookup = (n: string): string | undefined => env[n];
  return [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(a, lookup));
}
