// Errors of the protobuf codec. The API server maps them onto Status responses: a body it cannot read is a
// 400 BadRequest, a kind this codec has no schema for is a 415 UnsupportedMediaType (the client may retry as JSON).

export type ProtobufErrorCode =
  /** The body does not start with the `k8s\0` magic prefix. */
  | 'BadMagic'
  /** Truncated or otherwise invalid protobuf bytes, or a value outside what JSON can carry. */
  | 'Malformed'
  /** The envelope names an apiVersion/kind this codec has no message definition for. */
  | 'UnknownKind'
  /** An object handed to the encoder does not fit its message definition. */
  | 'InvalidObject';

const kProtobufError = Symbol.for('hubspoke.ProtobufError');

export class ProtobufError extends Error {
  readonly [kProtobufError] = true;
  override readonly name = 'ProtobufError';

  readonly code: ProtobufErrorCode;

  constructor(code: ProtobufErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && kProtobufError in value;
  }
}
