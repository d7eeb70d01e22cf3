// Pod spec validation (k8s pkg/apis/core/validation ValidatePodSpec and helpers): the rules that turn common
// mistakes into a 422 with the field path, with upstream's messages.
import { path, type FieldError, type FieldPath } from '../../field.js';
import type { KubeObject } from '../../resource.js';
import { isObject, obj, objects, str, type JsonObject } from '../../validation/json.js';
import {
  inclusiveRangeError,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isValidPortName,
} from '../../validation/names.js';
import { validateLabelName, validateLabels } from '../../validation/object-meta.js';
import { tryParseQuantity, type Quantity } from '../../validation/quantity.js';
import { validateDNS1123Label, validatePortNum, validateProtocol } from './ports.js';
import { validateTolerations } from './taints.js';

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];
const standardContainerResources = ['cpu', 'memory', 'ephemeral-storage'];
const maxInt32 = 2 ** 31 - 1;

// Upstream reports `Not found: "<name>"` (field.NotFound); field.ts has no NotFound type yet, so the nearest is used.
function notFound(p: FieldPath, value: unknown): FieldError {
  return p.invalid(value, 'not found');
}

function validateResourceName(name: string, p: FieldPath): FieldError[] {
  const errs = validateLabelName(name, p);
  if (!name.includes('/')) {
    if (!standardContainerResources.includes(name) && !name.startsWith('hugepages-')) {
      errs.push(p.invalid(name, 'must be a standard resource for containers'));
    }
  }
  return errs;
}

function validateResourceList(list: unknown, p: FieldPath, parsed: Map<string, Quantity>): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, v] of Object.entries(obj(list))) {
    const kp = p.key(name);
    errs.push(...validateResourceName(name, kp));
    const q = tryParseQuantity(v);
    if (typeof q === 'string') errs.push(kp.invalid(v, q));
    else if (q.nanos < 0n) errs.push(kp.invalid(q.toString(), 'must be greater than or equal to 0'));
    else parsed.set(name, q);
  }
  return errs;
}

function validateResources(resources: unknown, p: FieldPath): FieldError[] {
  const r = obj(resources);
  const limits = new Map<string, Quantity>();
  const requests = new Map<string, Quantity>();
  const errs = [
    ...validateResourceList(r.limits, p.child('limits'), limits),
    ...validateResourceList(r.requests, p.child('requests'), requests),
  ];
  for (const [name, req] of requests) {
    const lim = limits.get(name);
    if (lim && req.cmp(lim) > 0) {
      const detail = `must be less than or equal to ${name} limit of ${lim.toString()}`;
      errs.push(p.child('requests').key(name).invalid(req.toString(), detail));
    }
  }
  return errs;
}

function validateEnum(value: unknown, valid: string[], p: FieldPath): FieldError[] {
  if (value === undefined || value === '') return [p.required()];
  return valid.includes(value as string) ? [] : [p.notSupported(value, valid)];
}

function validateContainerPorts(ports: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objects(ports).forEach((port, i) => {
    const ip = p.index(i);
    const name = str(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      errs.push(...msgs.map((msg) => ip.child('name').invalid(name, msg)));
      if (msgs.length === 0 && names.has(name)) errs.push(ip.child('name').duplicate(name));
      names.add(name);
    }
    if (!port.containerPort) errs.push(ip.child('containerPort').required());
    else errs.push(...validatePortNum(port.containerPort, ip.child('containerPort')));
    if (port.hostPort) errs.push(...validatePortNum(port.hostPort, ip.child('hostPort')));
    errs.push(...validateProtocol(port.protocol, ip.child('protocol')));
  });
  return errs;
}

function validateEnv(env: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objects(env).forEach((e, i) => {
    const ip = p.index(i);
    const name = str(e.name);
    if (!name) errs.push(ip.child('name').required());
    else errs.push(...isEnvVarName(name).map((msg) => ip.child('name').invalid(name, msg)));
    if (e.valueFrom !== undefined && str(e.value) !== '') {
      errs.push(ip.child('valueFrom').invalid('', 'may not be specified when `value` is not empty'));
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  objects(mounts).forEach((m, i) => {
    const ip = p.index(i);
    const name = str(m.name);
    const mountPath = str(m.mountPath);
    if (!name) errs.push(ip.child('name').required());
    else if (!volumes.has(name)) errs.push(notFound(ip.child('name'), name));
    if (!mountPath) errs.push(ip.child('mountPath').required());
    else if (mountPoints.has(mountPath)) errs.push(ip.child('mountPath').invalid(mountPath, 'must be unique'));
    mountPoints.add(mountPath);
  });
  return errs;
}

function validateContainers(list: unknown, p: FieldPath, names: Set<string>, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  objects(list).forEach((c, i) => {
    const ip = p.index(i);
    const name = str(c.name);
    if (!name) errs.push(ip.child('name').required());
    else {
      const msgs = validateDNS1123Label(name, ip.child('name'));
      errs.push(...msgs);
      if (msgs.length === 0 && names.has(name)) errs.push(ip.child('name').duplicate(name));
      names.add(name);
    }
    const image = str(c.image);
    if (!image) errs.push(ip.child('image').required());
    else if (image.trim() !== image)
      errs.push(ip.child('image').invalid(image, 'must not have leading or trailing whitespace'));
    errs.push(...validateEnum(c.imagePullPolicy, pullPolicies, ip.child('imagePullPolicy')));
    errs.push(
      ...validateEnum(c.terminationMessagePolicy, terminationMessagePolicies, ip.child('terminationMessagePolicy'))
    );
    errs.push(...validateContainerPorts(c.ports, ip.child('ports')));
    errs.push(...validateEnv(c.env, ip.child('env')));
    errs.push(...validateVolumeMounts(c.volumeMounts, volumes, ip.child('volumeMounts')));
    errs.push(...validateResources(c.resources, ip.child('resources')));
  });
  return errs;
}

function validateVolumes(volumes: unknown, p: FieldPath): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objects(volumes).forEach((v, i) => {
    const ip = p.index(i);
    const name = str(v.name);
    if (!name) errs.push(ip.child('name').required());
    else {
      const msgs = validateDNS1123Label(name, ip.child('name'));
      errs.push(...msgs);
      if (msgs.length === 0 && names.has(name)) errs.push(ip.child('name').duplicate(name));
      names.add(name);
    }
    const sources = Object.keys(v).filter((k) => k !== 'name' && isObject(v[k]));
    if (sources.length === 0) errs.push(ip.required('must specify a volume type'));
    for (const extra of sources.slice(1))
      errs.push(ip.child(extra).forbidden('may not specify more than 1 volume type'));
  });
  return { errs, names };
}

function validateDNSName(value: unknown, p: FieldPath, check: (v: string) => string[]): FieldError[] {
  const s = str(value);
  return s ? check(s).map((msg) => p.invalid(s, msg)) : [];
}

export function validatePodSpec(spec: JsonObject, p: FieldPath): FieldError[] {
  const { errs, names: volumes } = validateVolumes(spec.volumes, p.child('volumes'));
  const containerNames = new Set<string>();
  if (objects(spec.containers).length === 0) errs.push(p.child('containers').required());
  errs.push(...validateContainers(spec.initContainers, p.child('initContainers'), containerNames, volumes));
  errs.push(...validateContainers(spec.containers, p.child('containers'), containerNames, volumes));
  errs.push(...validateEnum(spec.restartPolicy, restartPolicies, p.child('restartPolicy')));
  errs.push(...validateEnum(spec.dnsPolicy, dnsPolicies, p.child('dnsPolicy')));
  errs.push(...validateLabels(spec.nodeSelector, p.child('nodeSelector')));
  errs.push(...validateDNSName(spec.serviceAccountName, p.child('serviceAccountName'), isDNS1123Subdomain));
  errs.push(...validateDNSName(spec.nodeName, p.child('nodeName'), isDNS1123Subdomain));
  errs.push(...validateDNSName(spec.hostname, p.child('hostname'), isDNS1123Label));
  errs.push(...validateDNSName(spec.subdomain, p.child('subdomain'), isDNS1123Label));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline != null && (typeof deadline !== 'number' || deadline < 1 || deadline > maxInt32)) {
    errs.push(p.child('activeDeadlineSeconds').invalid(deadline, inclusiveRangeError(1, maxInt32)));
  }
  errs.push(...validateTolerations(spec.tolerations, p.child('tolerations')));
  return errs;
}

export function validatePod(pod: KubeObject): FieldError[] {
  return validatePodSpec(obj(pod.spec), path('spec'));
}
