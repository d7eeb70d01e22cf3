// resource.Quantity (apimachinery pkg/api/resource): parse `100m`, `1Gi`, `1e3`, `0.5`, and print the canonical
// form the API server stores (`0.5` → `500m`, `1024Mi` → `1Gi`). Values are kept exactly, in nano units, rounded
// away from zero below 1n as upstream does ("if you want some resources, you should get some").
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export const quantityFormatError =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const quantitySuffixError = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const nano = 1_000_000_000n;
// BinarySI and DecimalExponent values are capped at int64's maximum, as upstream.
const maxAllowedNanos = (2n ** 63n - 1n) * nano;

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

// The same scan as upstream's parseQuantityString: sign, digits, optional fraction, suffix letters, optional signed
// exponent digits. Like upstream, "-", "." and "Mi" parse as zero.
const quantityRegexp = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)$/;

export class Quantity {
  private constructor(
    /** The value in units of 10^-9. */
    readonly nanos: bigint,
    readonly format: QuantityFormat
  ) {}

  /** Parses a quantity string, or a JSON number (upstream accepts both); throws QuantityError. */
  static parse(input: string | number): Quantity {
    const s = typeof input === 'number' ? String(input) : input;
    const m = quantityRegexp.exec(s);
    if (s.length === 0 || !m) throw new QuantityError(quantityFormatError);
    const [, sign = '', whole = '', fraction = '', suffix = ''] = m;
    let base: 10 | 2;
    let exponent: number;
    let format: QuantityFormat;
    if (suffix in decimalSuffixes) [base, exponent, format] = [10, decimalSuffixes[suffix] ?? 0, 'DecimalSI'];
    else if (suffix in binarySuffixes) [base, exponent, format] = [2, binarySuffixes[suffix] ?? 0, 'BinarySI'];
    else if (/^[eE][+-]?[0-9]+$/.test(suffix) && Math.abs(Number(suffix.slice(1))) <= 1000) {
      [base, exponent, format] = [10, Number(suffix.slice(1)), 'DecimalExponent'];
    } else throw new QuantityError(quantitySuffixError);

    let digits = BigInt(`0${whole}${fraction}`);
    let scale = 9 - fraction.length;
    if (base === 10) scale += exponent;
    else digits <<= BigInt(exponent);
    let n = scale >= 0 ? digits * pow10(scale) : ceilDiv(digits, pow10(-scale));
    if (format !== 'DecimalSI' && n > maxAllowedNanos) n = maxAllowedNanos;
    return new Quantity(sign === '-' ? -n : n, format);
  }

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format);
  }

  /** The value rounded up (away from zero) to a whole unit: bytes for memory. */
  value(): number {
    return Number(this.nanos < 0n ? -ceilDiv(-this.nanos, nano) : ceilDiv(this.nanos, nano));
  }

  /** The value in thousandths rounded away from zero: millicores for CPU. */
  milliValue(): number {
    const m = 1_000_000n;
    return Number(this.nanos < 0n ? -ceilDiv(-this.nanos, m) : ceilDiv(this.nanos, m));
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  /** Upstream's canonical form (CanonicalizeBytes). */
  toString(): string {
    if (this.nanos === 0n) return '0';
    const sign = this.nanos < 0n ? '-' : '';
    const magnitude = abs(this.nanos);
    // BinarySI is only used for whole values of at least 1024; anything else would lose precision or confuse.
    if (this.format === 'BinarySI' && magnitude >= 1024n * nano && magnitude % nano === 0n) {
      let amount = magnitude / nano;
      let power = 0;
      while (amount % 1024n === 0n && power < binaryByPower.length - 1) {
        amount /= 1024n;
        power++;
      }
      return `${sign}${amount}${binaryByPower[power]}`;
    }
    let amount = magnitude;
    let exponent = -9;
    while (amount % 10n === 0n) {
      amount /= 10n;
      exponent++;
    }
    // The exponent must be a multiple of 3 for an SI suffix.
    const extra = ((exponent % 3) + 3) % 3;
    amount *= pow10(extra);
    exponent -= extra;
    if (this.format === 'DecimalExponent') return `${sign}${amount}${exponent === 0 ? '' : `e${exponent}`}`;
    if (exponent > 18) return `${sign}${amount * pow10(exponent - 18)}E`;
    return `${sign}${amount}${decimalByExponent.get(exponent) ?? ''}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses a quantity, or returns the reason it is not one (for validation). */
export function tryParseQuantity(v: unknown): Quantity | string {
  if (typeof v !== 'string' && typeof v !== 'number') return quantityFormatError;
  try {
    return Quantity.parse(v);
  } catch (err) {
    return err instanceof QuantityError ? err.message : quantityFormatError;
  }
}
