// core/v1 pods (k8s pkg/registry/core/pod).
import type { ResourceDef } from '../../resource.js';
import { obj, objects, str } from '../../validation/json.js';
import { defaultPod } from './pod-defaults.js';
import { validatePodUpdate } from './pod-update.js';
import { validatePod } from './pod-validation.js';

export const pods: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'log', 'exec', 'attach', 'portforward', 'proxy'],
  hasStatus: true,
  strategy: {
    defaults: defaultPod,
    validate: validatePod,
    validateUpdate: validatePodUpdate,
    // Upstream's pod GetAttrs (ToSelectableFields): what kubelets and kubectl filter pods by.
    selectableFields(pod) {
      const spec = obj(pod.spec);
      const status = obj(pod.status);
      return {
        'spec.nodeName': str(spec.nodeName),
        'spec.restartPolicy': str(spec.restartPolicy),
        'spec.schedulerName': str(spec.schedulerName),
        'spec.serviceAccountName': str(spec.serviceAccountName),
        'spec.hostNetwork': String(spec.hostNetwork === true),
        'status.phase': str(status.phase),
        'status.podIP': str(objects(status.podIPs)[0]?.ip ?? status.podIP),
        'status.nominatedNodeName': str(status.nominatedNodeName),
      };
    },
  },
};
