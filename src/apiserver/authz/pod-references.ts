// The API objects a pod spec names (k8s pkg/api/v1/pod VisitPodSecretNames / VisitPodConfigmapNames): what the
// Node authorizer's graph links to the pod and what NodeRestriction refuses in a node-created mirror pod.
import type { Container, EnvFromSource, EnvVar, Pod, Volume } from 'kubernetes-types/core/v1.js';

/** The annotation the kubelet puts on the API copy of a static pod. */
export const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

export function isMirrorPod(pod: Pod): boolean {
  return Object.hasOwn(pod.metadata?.annotations ?? {}, mirrorPodAnnotation);
}

/** Init, regular and ephemeral containers: every container whose env a kubelet resolves. */
function allContainers(pod: Pod): Pick<Container, 'env' | 'envFrom'>[] {
  const spec = pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

type Named = { name?: string } | undefined;
const nameOf = (ref: Named): string[] => (ref?.name ? [ref.name] : []);

function volumeSecretNames(v: Volume): string[] {
  return [
    ...(v.secret?.secretName ? [v.secret.secretName] : []),
    ...(v.projected?.sources ?? []).flatMap((s) => nameOf(s.secret)),
    ...(v.azureFile?.secretName ? [v.azureFile.secretName] : []),
    ...nameOf(v.cephfs?.secretRef),
    ...nameOf(v.cinder?.secretRef),
    ...nameOf(v.flexVolume?.secretRef),
    ...nameOf(v.iscsi?.secretRef),
    ...nameOf(v.rbd?.secretRef),
    ...nameOf(v.scaleIO?.secretRef),
    ...nameOf(v.storageos?.secretRef),
    ...nameOf(v.csi?.nodePublishSecretRef),
  ];
}

const envSecrets = (env: EnvVar[] = [], from: EnvFromSource[] = []): string[] => [
  ...env.flatMap((e) => nameOf(e.valueFrom?.secretKeyRef)),
  ...from.flatMap((e) => nameOf(e.secretRef)),
];

const envConfigMaps = (env: EnvVar[] = [], from: EnvFromSource[] = []): string[] => [
  ...env.flatMap((e) => nameOf(e.valueFrom?.configMapKeyRef)),
  ...from.flatMap((e) => nameOf(e.configMapRef)),
];

export function podSecretNames(pod: Pod): string[] {
  return [
    ...(pod.spec?.imagePullSecrets ?? []).flatMap(nameOf),
    ...allContainers(pod).flatMap((c) => envSecrets(c.env, c.envFrom)),
    ...(pod.spec?.volumes ?? []).flatMap(volumeSecretNames),
  ];
}

export function podConfigMapNames(pod: Pod): string[] {
  return [
    ...allContainers(pod).flatMap((c) => envConfigMaps(c.env, c.envFrom)),
    ...(pod.spec?.volumes ?? []).flatMap((v) => [
      ...nameOf(v.configMap),
      ...(v.projected?.sources ?? []).flatMap((s) => nameOf(s.configMap)),
    ]),
  ];
}

/** Claims the pod mounts, including the `<pod>-<volume>` claim an ephemeral volume creates. */
export function podPVCNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => [
    ...(v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : []),
    ...(v.ephemeral ? [`${pod.metadata?.name ?? ''}-${v.name}`] : []),
  ]);
}
