// ServiceAccount admission (k8s plugin/pkg/admission/serviceaccount): every new pod runs as a service account
// (`default` unless it names one) that must exist, and unless automounting is off it gets the projected volume
// the kubelet fills with a bound token, the cluster CA and the namespace, mounted where client libraries look
// for in-cluster credentials. Mirror pods are left alone but may not name any of these objects.
import { randomInt } from 'node:crypto';
import type { Pod, ServiceAccount, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import { newForbidden } from '../../api/errors.js';
import type { KubeObject } from '../../api/resource.js';
import { isMirrorPod, podSecretNames } from '../authz/pod-references.js';
import type { AdmissionAttributes, AdmissionPlugin } from './interface.js';

export const defaultServiceAccountName = 'default';
export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const serviceAccountVolumePrefix = 'kube-api-access-';
export const rootCAConfigMapName = 'kube-root-ca.crt';
/** Upstream's bound-token lifetime for the injected volume: an hour plus seven seconds, recognisable in tokens. */
export const injectedTokenExpirationSeconds = 3607;
// apimachinery's utilrand alphabet: no vowels (no words) and no look-alike characters.
const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export interface ServiceAccountDeps {
  /** A live read of the service account; `undefined` when it does not exist. */
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Pause between lookups of `default`, which the service-account controller may still be creating. */
  retryDelayMs?: () => number;
}

const isPodCreate = (a: AdmissionAttributes): boolean =>
  a.operation === 'CREATE' && a.def.group === '' && a.def.resource === 'pods' && a.subresource === '';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixAlphabet[randomInt(suffixAlphabet.length)];
  return s;
}

function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: injectedTokenExpirationSeconds, path: 'token' } },
        { configMap: { name: rootCAConfigMapName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

/** Adds the volume and its mount to every init and regular container that has nothing at the path yet. */
function mountToken(pod: Pod): void {
  const spec = pod.spec!;
  const existing = spec.volumes?.find((v) => v.name.startsWith(serviceAccountVolumePrefix));
  const name = existing?.name ?? serviceAccountVolumePrefix + randomSuffix();
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const mounts: VolumeMount[] = (c.volumeMounts ??= []);
    if (mounts.some((m) => m.mountPath === serviceAccountMountPath)) continue;
    mounts.push({ name, readOnly: true, mountPath: serviceAccountMountPath });
    needed = true;
  }
  if (needed && !existing) (spec.volumes ??= []).push(tokenVolume(name));
}

/** An account annotated `kubernetes.io/enforce-mountable-secrets: "true"` limits its pods to the secrets it lists. */
const enforceMountableSecretsAnnotation = 'kubernetes.io/enforce-mountable-secrets';
// Go's strconv.ParseBool truths.
const enforcesMountableSecrets = (sa: ServiceAccount): boolean =>
  ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(sa.metadata?.annotations?.[enforceMountableSecretsAnnotation] ?? '');

/** Why the pod names a secret the account does not list (upstream limitSecretReferences), or undefined. */
function secretReferenceNotAllowed(sa: ServiceAccount, pod: Pod): string | undefined {
  const saName = sa.metadata?.name ?? '';
  const mountable = new Set((sa.secrets ?? []).map((s) => s.name));
  const notListed = `is not allowed because service account ${saName} does not reference that secret`;
  for (const v of pod.spec?.volumes ?? [])
    if (v.secret && !mountable.has(v.secret.secretName))
      return `volume with secret.secretName="${v.secret.secretName ?? ''}" ${notListed}`;
  const containers = [
    ...(pod.spec?.initContainers ?? []).map((c) => ({ c, kind: 'init container' })),
    ...(pod.spec?.containers ?? []).map((c) => ({ c, kind: 'container' })),
  ];
  for (const { c, kind } of containers)
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && !mountable.has(ref.name))
        return `${kind} ${c.name} with envVar ${e.name} referencing secret.secretName="${ref.name ?? ''}" ${notListed}`;
    }
  const pullable = new Set((sa.imagePullSecrets ?? []).map((s) => s.name));
  const pulls = pod.spec?.imagePullSecrets ?? [];
  for (const [i, ref] of pulls.entries())
    if (!pullable.has(ref.name))
      return `imagePullSecrets[${i}].name="${ref.name ?? ''}" is not allowed because service account ${saName} does not reference that imagePullSecret`;
  return undefined;
}

export function serviceAccountAdmission(deps: ServiceAccountDeps): AdmissionPlugin {
  const delay = deps.retryDelayMs ?? (() => 100 + randomInt(100));

  // An informer miss is retried by upstream with live reads; `default` gets ten tries.
  async function lookup(namespace: string, name: string): Promise<ServiceAccount | undefined> {
    const attempts = name === defaultServiceAccountName ? 10 : 1;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, delay()));
      const sa = await deps.getServiceAccount(namespace, name);
      if (sa) return sa as ServiceAccount;
    }
    return undefined;
  }

  const forbidden = (a: AdmissionAttributes, why: string): Error =>
    newForbidden({ group: '', resource: 'pods' }, a.name, why);

  return {
    name: 'ServiceAccount',
    handles: (op) => op === 'CREATE',
    async admit(a) {
      if (!isPodCreate(a)) return;
      const pod = a.object as Pod;
      if (isMirrorPod(pod)) return;
      const spec = (pod.spec ??= { containers: [] });
      spec.serviceAccountName ||= defaultServiceAccountName;
      spec.serviceAccount = spec.serviceAccountName; // the deprecated alias, mirrored as upstream serves it
      const sa = await lookup(a.namespace, spec.serviceAccountName);
      if (!sa)
        throw forbidden(
          a,
          `error looking up service account ${a.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`
        );
      // The pod's own setting wins; else the account's; else mount.
      if ((spec.automountServiceAccountToken ?? sa.automountServiceAccountToken) !== false) mountToken(pod);
      if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length)
        spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
      // Upstream checks this in its validating half, after every mutation; no later plugin here adds secrets.
      if (enforcesMountableSecrets(sa)) {
        const why = secretReferenceNotAllowed(sa, pod);
        if (why) throw forbidden(a, why);
      }
    },
    async validate(a) {
      if (!isPodCreate(a)) return;
      const pod = a.object as Pod;
      if (!isMirrorPod(pod)) return;
      if (pod.spec?.serviceAccountName) throw forbidden(a, 'a mirror pod may not reference service accounts');
      if (podSecretNames(pod).length > 0) throw forbidden(a, 'a mirror pod may not reference secrets');
      if (pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)))
        throw forbidden(a, 'a mirror pod may not use ServiceAccountToken volume projections');
    },
  };
}
