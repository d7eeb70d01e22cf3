// Pod volumes on the node (upstream's volume plugins that need no storage system): emptyDir, configMap, secret,
// downwardAPI and projected, each under `<root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`, the
// data-carrying ones written with the atomic writer and mounted read-only, as upstream mounts them.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  ServiceAccountTokenProjection,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import { fieldValue, resourceValue, type PodIPs } from '../pods/fieldpath.js';
import { writeAtomically, type FileProjection } from './atomic-writer.js';
import { setUpHostPath } from './host-path.js';
import type { TokenManager } from './token-manager.js';

export interface VolumeContext {
  client: KubeClient;
  tokens: TokenManager;
  ips: PodIPs;
  allocatable: Record<string, string>;
}

export interface MountedVolume {
  hostPath: string;
  /** configMap, secret, downwardAPI and projected volumes are always read-only. */
  readOnly: boolean;
}

export interface VolumeSetUp {
  volumes: Map<string, MountedVolume>;
  /** When the volumes must be written again at the latest (a token to refresh). */
  refreshAt: number;
}

/** A volume that could not be set up: upstream's FailedMount message. */
export class MountError extends Error {
  constructor(volume: string, cause: string) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${cause}`);
  }
}

export const podDir = (rootDir: string, uid: string): string => join(rootDir, 'pods', uid);

const pluginDir = (v: Volume): string | undefined =>
  v.emptyDir
    ? 'kubernetes.io~empty-dir'
    : v.configMap
      ? 'kubernetes.io~configmap'
      : v.secret
        ? 'kubernetes.io~secret'
        : v.downwardAPI
          ? 'kubernetes.io~downward-api'
          : v.projected
            ? 'kubernetes.io~projected'
            : undefined;

type Payload = Map<string, FileProjection>;

async function getData(
  client: KubeClient,
  ns: string,
  kind: 'configmap' | 'secret',
  name: string
): Promise<Record<string, Buffer> | undefined> {
  try {
    const obj = await client.get<Record<string, Record<string, string> | undefined>>(
      `/api/v1/namespaces/${ns}/${kind}s/${name}`
    );
    const out: Record<string, Buffer> = {};
    if (kind === 'configmap') {
      for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(obj.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
    } else for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(v, 'base64');
    return out;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function keyedPayload(
  ctx: VolumeContext,
  ns: string,
  kind: 'configmap' | 'secret',
  src: { name?: string; items?: KeyToPath[]; optional?: boolean },
  mode: number,
  into: Payload
): Promise<void> {
  const name = src.name ?? '';
  const data = await getData(ctx.client, ns, kind, name);
  if (!data) {
    if (src.optional) return;
    throw new Error(`${kind} "${name}" not found`);
  }
  if (!src.items?.length) {
    for (const [k, v] of Object.entries(data)) into.set(k, { data: v, mode });
    return;
  }
  for (const item of src.items) {
    const v = data[item.key];
    if (v === undefined) {
      if (src.optional) continue;
      throw new Error(`configmap references non-existent config key: ${item.key}`.replace('configmap', kind));
    }
    into.set(item.path, { data: v, mode: item.mode ?? mode });
  }
}

function downwardPayload(
  pod: Pod,
  ctx: VolumeContext,
  items: DownwardAPIVolumeFile[],
  mode: number,
  into: Payload
): void {
  for (const item of items) {
    let v: string | Error;
    if (item.fieldRef) v = fieldValue(pod, item.fieldRef.fieldPath, ctx.ips);
    else if (item.resourceFieldRef) {
      const c = pod.spec?.containers.find((x) => x.name === item.resourceFieldRef!.containerName);
      v = c
        ? resourceValue(c, item.resourceFieldRef.resource, item.resourceFieldRef.divisor, ctx.allocatable)
        : new Error(`container ${item.resourceFieldRef.containerName} not found`);
    } else v = new Error(`item ${item.path} has neither fieldRef nor resourceFieldRef`);
    if (v instanceof Error) throw v;
    into.set(item.path, { data: Buffer.from(v), mode: item.mode ?? mode });
  }
}

async function tokenPayload(
  pod: Pod,
  ctx: VolumeContext,
  src: ServiceAccountTokenProjection,
  mode: number,
  into: Payload
): Promise<number> {
  const { token, refreshAt } = await ctx.tokens.get({
    namespace: pod.metadata!.namespace!,
    serviceAccount: pod.spec?.serviceAccountName ?? 'default',
    podName: pod.metadata!.name!,
    podUID: pod.metadata!.uid!,
    audience: src.audience,
    expirationSeconds: src.expirationSeconds ?? 3600,
  });
  into.set(src.path, { data: Buffer.from(token), mode });
  return refreshAt;
}

/** Sets up (or refreshes) every volume of the pod that this kubelet supports. */
export async function setUpVolumes(rootDir: string, pod: Pod, ctx: VolumeContext): Promise<VolumeSetUp> {
  const ns = pod.metadata!.namespace!;
  const uid = pod.metadata!.uid!;
  const volumes = new Map<string, MountedVolume>();
  let refreshAt = Infinity;
  for (const v of pod.spec?.volumes ?? []) {
    if (v.hostPath) {
      try {
        volumes.set(v.name, { hostPath: await setUpHostPath(v.hostPath), readOnly: false });
      } catch (err) {
        throw new MountError(v.name, (err as Error).message);
      }
      continue;
    }
    const plugin = pluginDir(v);
    if (!plugin)
      throw new MountError(
        v.name,
        'this kubelet supports only emptyDir, hostPath, configMap, secret, downwardAPI and projected volumes'
      );
    const dir = join(podDir(rootDir, uid), 'volumes', plugin, v.name);
    try {
      if (v.emptyDir) {
        await mkdir(dir, { recursive: true });
        await chmod(dir, 0o777);
        volumes.set(v.name, { hostPath: dir, readOnly: false });
        continue;
      }
      const payload: Payload = new Map();
      if (v.configMap) await keyedPayload(ctx, ns, 'configmap', v.configMap, v.configMap.defaultMode ?? 0o644, payload);
      if (v.secret)
        await keyedPayload(
          ctx,
          ns,
          'secret',
          { ...v.secret, name: v.secret.secretName },
          v.secret.defaultMode ?? 0o644,
          payload
        );
      if (v.downwardAPI)
        downwardPayload(pod, ctx, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? 0o644, payload);
      if (v.projected) {
        const mode = v.projected.defaultMode ?? 0o644;
        for (const s of v.projected.sources ?? []) {
          if (s.configMap) await keyedPayload(ctx, ns, 'configmap', s.configMap, mode, payload);
          if (s.secret) await keyedPayload(ctx, ns, 'secret', s.secret, mode, payload);
          if (s.downwardAPI) downwardPayload(pod, ctx, s.downwardAPI.items ?? [], mode, payload);
          if (s.serviceAccountToken)
            refreshAt = Math.min(refreshAt, await tokenPayload(pod, ctx, s.serviceAccountToken, mode, payload));
        }
      }
      await writeAtomically(dir, payload);
      volumes.set(v.name, { hostPath: dir, readOnly: true });
    } catch (err) {
      if (err instanceof MountError) throw err;
      throw new MountError(v.name, err instanceof Error ? err.message : String(err));
    }
  }
  return { volumes, refreshAt };
}
