// k8s.io/api/discovery/v1 (upstream generated.proto); field tables as described in ./types.ts.
import type { MessageSpecs } from './types.js';

export const discoveryMessages: MessageSpecs = {
  'discovery.Endpoint': [
    [1, 'addresses', '[]string'],
    [2, 'conditions', 'discovery.EndpointConditions'],
    [3, 'hostname', '*string'],
    [4, 'targetRef', '*core.ObjectReference'],
    [5, 'deprecatedTopology', 'map[string]string'],
    [6, 'nodeName', '*string'],
    [7, 'zone', '*string'],
    [8, 'hints', '*discovery.EndpointHints'],
  ],
  'discovery.EndpointConditions': [
    [1, 'ready', '*bool'],
    [2, 'serving', '*bool'],
    [3, 'terminating', '*bool'],
  ],
  'discovery.EndpointHints': [
    [1, 'forZones', '[]discovery.ForZone'],
    [2, 'forNodes', '[]discovery.ForNode'],
  ],
  'discovery.EndpointPort': [
    [1, 'name', '*string'],
    [2, 'protocol', '*string'],
    [3, 'port', '*int32'],
    [4, 'appProtocol', '*string'],
  ],
  'discovery.EndpointSlice': [
    [1, 'metadata', 'meta.ObjectMeta'],
    [4, 'addressType', 'string!'],
    [2, 'endpoints', '[]discovery.Endpoint'],
    [3, 'ports', '[]discovery.EndpointPort'],
  ],
  'discovery.ForNode': [[1, 'name', 'string!']],
  'discovery.ForZone': [[1, 'name', 'string!']],
};
