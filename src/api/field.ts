// Path-qualified validation errors, as apimachinery's field.ErrorList: validation collects every one and the
// API server reports them together in one 422.
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTypeInvalid';

const detailWords: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTypeInvalid: 'Invalid value',
};

export class FieldError {
  constructor(
    readonly type: FieldErrorType,
    readonly field: string,
    readonly value: unknown,
    readonly detail: string = ''
  ) {}

  /** `spec.containers[0].name: Required value` / `metadata.name: Invalid value: "A": a lowercase RFC 1123 …` */
  toString(): string {
    const words = detailWords[this.type];
    const showValue =
      this.type === 'FieldValueInvalid' ||
      this.type === 'FieldValueNotSupported' ||
      this.type === 'FieldValueDuplicate' ||
      this.type === 'FieldValueTypeInvalid';
    let s = `${this.field}: ${words}`;
    if (showValue && this.value !== undefined) s += `: ${JSON.stringify(this.value)}`;
    if (this.detail) s += `: ${this.detail}`;
    return s;
  }
}

/** A field path builder: `path('spec').child('containers').index(0).child('name').toString()`. */
export class FieldPath {
  private constructor(private readonly parts: string) {}
  static root(name: string): FieldPath {
    return new FieldPath(name);
  }
  child(name: string): FieldPath {
    return new FieldPath(this.parts ? `${this.parts}.${name}` : name);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.parts}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.parts}[${k}]`);
  }
  toString(): string {
    return this.parts;
  }
  required(detail = ''): FieldError {
    return new FieldError('FieldValueRequired', this.parts, undefined, detail);
  }
  invalid(value: unknown, detail: string): FieldError {
    return new FieldError('FieldValueInvalid', this.parts, value, detail);
  }
  notSupported(value: unknown, valid: readonly string[]): FieldError {
    return new FieldError(
      'FieldValueNotSupported',
      this.parts,
      value,
      `supported values: ${valid.map((v) => `"${v}"`).join(', ')}`
    );
  }
  duplicate(value: unknown): FieldError {
    return new FieldError('FieldValueDuplicate', this.parts, value);
  }
  forbidden(detail: string): FieldError {
    return new FieldError('FieldValueForbidden', this.parts, undefined, detail);
  }
  tooLong(value: unknown, max: number): FieldError {
    return new FieldError('FieldValueTooLong', this.parts, value, `must have at most ${max} bytes`);
  }
}

export const path = (name: string): FieldPath => FieldPath.root(name);
