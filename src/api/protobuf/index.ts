// Kubernetes protobuf (application/vnd.kubernetes.protobuf) for request bodies: typed kubectl commands and
// client-go send it and do not fall back to JSON on a 415, so the API server decodes it into the JSON form.
export {
  decodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  isKubernetesProtobuf,
  protobufContentType,
} from './codec.js';
export type { DecodedObject } from './codec.js';
export { ProtobufError } from './errors.js';
export type { ProtobufErrorCode } from './errors.js';
