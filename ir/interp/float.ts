// The narrow float formats (f16, bf16, the four fp8 kinds, fp4): decoding bit patterns to
// numbers, rounding a number to the nearest value of a format (round to nearest, ties to even,
// with ONNX's saturation rules for fp8), and encoding an exactly representable value back to
// bits. One parametrised description per format, so every format shares the same code.
import type { DType } from '../dtype.ts';

export interface FloatFormat {
  readonly mantBits: number;
  readonly expBits: number;
  readonly bias: number;
  /** Whether the all-ones exponent encodes Inf/NaN as in IEEE 754 (f16, bf16, e5m2). */
  readonly ieee: boolean;
  /** "fnuz" formats: no negative zero, no Inf, and 1000…0 is the one NaN. */
  readonly uz: boolean;
  /** Largest finite value. */
  readonly max: number;
  /** Whether the format has NaN at all (fp4 has not). */
  readonly hasNaN: boolean;
}

function fmt(expBits: number, mantBits: number, bias: number, ieee: boolean, uz: boolean, max: number, hasNaN = true): FloatFormat {
  return { expBits, mantBits, bias, ieee, uz, max, hasNaN };
}

export const FORMATS: Readonly<Partial<Record<DType, FloatFormat>>> = {
  f16: fmt(5, 10, 15, true, false, 65504),
  bf16: fmt(8, 7, 127, true, false, 3.3895313892515355e38),
  f8e4m3fn: fmt(4, 3, 7, false, false, 448),
  f8e4m3fnuz: fmt(4, 3, 8, false, true, 240),
  f8e5m2: fmt(5, 2, 15, true, false, 57344),
  f8e5m2fnuz: fmt(5, 2, 16, false, true, 57344),
  f4e2m1: fmt(2, 1, 1, false, false, 6, false),
};

/** Dtypes held as Float32Array at run time but rounded to a narrower format after each op. */
export function narrowFormat(dtype: DType): FloatFormat | undefined {
  return FORMATS[dtype];
}

/** Round half to even (ONNX Round, and the rounding step of every format conversion). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** floor(log2(a)) exactly, for a finite a > 0 (Math.log2 can be one off near powers of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/**
 * The value of format `f` nearest to x (ties to even). `saturate` (fp8 only, ONNX Cast's
 * attribute) clamps out-of-range values and Inf to ±max; otherwise they become Inf where the
 * format has it and NaN where it has not. fp4 always saturates (it has neither Inf nor NaN).
 */
export function roundToFormat(x: number, f: FloatFormat, saturate = false): number {
  if (Number.isNaN(x)) return f.hasNaN ? NaN : 0;
  const sat = saturate || !f.hasNaN;
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let r: number;
  if (a === Infinity) {
    r = Infinity;
  } else if (a === 0) {
    r = 0;
  } else {
    const minExp = 1 - f.bias;
    const e = Math.max(exponentOf(a), minExp);
    const q = 2 ** (e - f.mantBits);
    r = roundHalfEven(a / q) * q;
  }
  if (r > f.max) {
    if (r === Infinity && !sat && !f.ieee) r = NaN;
    else if (sat && !(r === Infinity && f.uz)) r = f.max;
    else if (f.ieee) r = Infinity;
    else r = NaN;
  }
  if (Number.isNaN(r)) return NaN;
  if (f.uz && r === 0) return 0;
  return neg ? -r : r;
}

/** The number a bit pattern stands for. */
export function decodeBits(bits: number, f: FloatFormat): number {
  const total = 1 + f.expBits + f.mantBits;
  const sign = (bits >>> (total - 1)) & 1;
  const expField = (bits >>> f.mantBits) & ((1 << f.expBits) - 1);
  const mant = bits & ((1 << f.mantBits) - 1);
  const expMax = (1 << f.expBits) - 1;
  if (f.uz && sign === 1 && expField === 0 && mant === 0) return NaN;
  if (f.ieee && expField === expMax) return mant === 0 ? (sign ? -Infinity : Infinity) : NaN;
  // e4m3fn: only S.1111.111 is NaN; the rest of the top binade holds finite values.
  if (!f.ieee && !f.uz && f.hasNaN && expField === expMax && mant === (1 << f.mantBits) - 1) return NaN;
  const v = expField === 0 ? mant * 2 ** (1 - f.bias - f.mantBits) : (1 + mant / 2 ** f.mantBits) * 2 ** (expField - f.bias);
  return sign ? -v : v;
}

/** The bit pattern of a value already representable in the format (NaN gets the canonical NaN). */
export function encodeBits(v: number, f: FloatFormat): number {
  const total = 1 + f.expBits + f.mantBits;
  const signBit = 1 << (total - 1);
  const expMax = (1 << f.expBits) - 1;
  if (Number.isNaN(v)) {
    if (f.uz) return signBit;
    if (f.ieee) return (expMax << f.mantBits) | (1 << (f.mantBits - 1));
    return f.hasNaN ? (expMax << f.mantBits) | ((1 << f.mantBits) - 1) : 0;
  }
  const sign = v < 0 || (Object.is(v, -0) && !f.uz) ? signBit : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | (expMax << f.mantBits);
  const e = exponentOf(a);
  const minExp = 1 - f.bias;
  if (e < minExp) return sign | Math.round(a / 2 ** (minExp - f.mantBits));
  const mant = Math.round((a / 2 ** e - 1) * 2 ** f.mantBits);
  return sign | ((e + f.bias) << f.mantBits) | mant;
}

const tables = new Map<FloatFormat, Float32Array>();

/** Decoding table for every bit pattern of a format of at most 16 bits. */
export function decodeTable(f: FloatFormat): Float32Array {
  let t = tables.get(f);
  if (!t) {
    const n = 1 << (1 + f.expBits + f.mantBits);
    t = new Float32Array(n);
    for (let b = 0; b < n; b++) t[b] = decodeBits(b, f);
    tables.set(f, t);
  }
  return t;
}

/** Round every element of `a` in place to format `f`. */
export function roundArray(a: Float32Array | Float64Array, f: FloatFormat, saturate = false): void {
  for (let i = 0; i < a.length; i++) a[i] = roundToFormat(a[i]!, f, saturate);
}
