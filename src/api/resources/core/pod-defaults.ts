// Pod defaults as users see them after create (k8s pkg/apis/core/v1/defaults.go SetDefaults_Pod/PodSpec/Container,
// plus what the pod strategy and the Priority admission plugin fill in when nothing else applies).
import type { KubeObject } from '../../resource.js';
import { child, isObject, objects, str, type JsonObject } from '../../validation/json.js';
import { Quantity, tryParseQuantity } from '../../validation/quantity.js';

/**
 * `Always` for `:latest` or no tag (and no digest), else `IfNotPresent` (upstream parses the image reference; an
 * empty image fails to parse and gets `IfNotPresent`, leaving validation to report it).
 */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (!image) return 'IfNotPresent';
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon >= 0 ? lastSegment.slice(colon + 1) : image.includes('@') ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

// The API server stores quantities in canonical form (`0.5` → `500m`); invalid ones are left for validation.
function canonicalizeQuantities(list: unknown): void {
  if (!isObject(list)) return;
  for (const [name, v] of Object.entries(list)) {
    const q = tryParseQuantity(v);
    if (q instanceof Quantity) list[name] = q.toString();
  }
}

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  if (isObject(probe.httpGet)) {
    probe.httpGet.path ??= '/';
    probe.httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(c: JsonObject, hostNetwork: boolean): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.imagePullPolicy ??= defaultImagePullPolicy(str(c.image));
  for (const port of objects(c.ports)) {
    port.protocol ??= 'TCP';
    // With the host's network namespace the container port is the host port.
    if (hostNetwork && !port.hostPort && typeof port.containerPort === 'number') port.hostPort = port.containerPort;
  }
  for (const env of objects(c.env)) {
    if (isObject(env.valueFrom) && isObject(env.valueFrom.fieldRef)) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  const resources = child(c, 'resources');
  canonicalizeQuantities(resources.limits);
  canonicalizeQuantities(resources.requests);
  // Limits without requests: requests default to the limits.
  if (isObject(resources.limits)) {
    const requests = child(resources, 'requests');
    for (const [name, v] of Object.entries(resources.limits)) requests[name] ??= v;
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

// Files projected from secrets, config maps and the downward API are 0644 unless said otherwise.
const defaultMode = 0o644;

function defaultVolume(v: JsonObject): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const src = v[k];
    if (isObject(src)) src.defaultMode ??= defaultMode;
  }
  if (isObject(v.projected)) {
    for (const s of objects(v.projected.sources)) {
      if (isObject(s.serviceAccountToken)) s.serviceAccountToken.expirationSeconds ??= 3600;
    }
  }
}

// The two built-in PriorityClasses; any other class is resolved by admission.
const builtinPriorities: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** Upstream's qos.GetPodQOS over cpu and memory of all containers. */
export function podQOSClass(spec: JsonObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const sum = (into: Map<string, Quantity>, list: unknown, found?: Set<string>): void => {
    if (!isObject(list)) return;
    for (const name of ['cpu', 'memory']) {
      const q = tryParseQuantity(list[name]);
      if (!(q instanceof Quantity) || q.nanos <= 0n) continue;
      found?.add(name);
      const prev = into.get(name);
      into.set(name, prev ? prev.add(q) : q);
    }
  };
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) {
    const res = isObject(c.resources) ? c.resources : {};
    sum(requests, res.requests);
    const found = new Set<string>();
    sum(limits, res.limits, found);
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || lim.cmp(req) !== 0) guaranteed = false;
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

export function defaultPod(pod: KubeObject): void {
  const spec = child(pod, 'spec');
  const hostNetwork = spec.hostNetwork === true;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  // `serviceAccount` is the deprecated alias upstream mirrors. `default` is not filled in here but by the
  // ServiceAccount admission plugin, which leaves mirror pods without one (NodeRestriction requires that).
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  spec.priority ??= builtinPriorities[spec.priorityClassName as string] ?? 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  for (const c of [
    ...objects(spec.initContainers),
    ...objects(spec.containers),
    ...objects(spec.ephemeralContainers),
  ]) {
    defaultContainer(c, hostNetwork);
  }
  for (const v of objects(spec.volumes)) defaultVolume(v);
  // Upstream's PrepareForCreate sets the initial status; the store keeps a pod's status on create (mirror pods
  // arrive with one), so only what is missing is filled.
  const status = child(pod, 'status');
  status.phase ??= 'Pending';
  status.qosClass ??= podQOSClass(spec);
}
