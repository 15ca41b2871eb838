// Elementwise binary and variadic ops with numpy broadcasting: arithmetic, comparison, logic,
// bit shifts, Sum/Max/Min/Mean, PRelu and Where. Numbers are computed as JS doubles and stored
// into the result's typed array (which rounds floats to f32 and wraps integers as C does);
// i64/u64 use BigInt so they stay exact.
import type { DType } from '../../dtype.ts';
import { isFloat } from '../../dtype.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { broadcastIndex, broadcastShape, reshaped } from './util.ts';

type Elem = any;
export interface BinarySpec {
  /** On floats (and on integers when `int` is not given). */
  num: (a: number, b: number) => number;
  /** On the integer dtypes held as numbers (e.g. Div truncates). */
  int?: (a: number, b: number) => number;
  /** On i64/u64; a comparison may return a number (0/1). */
  big?: (a: bigint, b: bigint) => bigint | number;
  str?: (a: string, b: string) => number;
  /** Result dtype when it is not the operands' (comparisons give bool). */
  out?: DType;
}

/** Apply a binary op elementwise with broadcasting. */
export function binary(a: Tensor, b: Tensor, spec: BinarySpec, what: string): Tensor {
  if (a.dtype !== b.dtype) throw evalError(`${what}: operands have dtypes ${a.dtype} and ${b.dtype}`);
  const dtype = a.dtype;
  const fn: (x: Elem, y: Elem) => Elem =
    dtype === 'string' ? spec.str! :
    isBigDType(dtype) ? spec.big! :
    !isFloat(dtype) && spec.int ? spec.int : spec.num;
  if (!fn) throw evalError(`${what} is not defined on ${dtype}`);
  return apply2(a, b, fn, spec.out ?? dtype);
}

/** The broadcasting loop, specialised on which operands need an index map. */
export function apply2(a: Tensor, b: Tensor, fn: (x: Elem, y: Elem) => Elem, outDType: DType): Tensor {
  const shape = broadcastShape([a.shape, b.shape]);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const x = a.data as AnyArray;
  const y = b.data as AnyArray;
  const n = ia ? ia.length : ib ? ib.length : x.length;
  const out = allocData(outDType, n) as AnyArray;
  if (!ia && !ib) for (let i = 0; i < n; i++) out[i] = fn(x[i], y[i]);
  else if (!ia) for (let i = 0; i < n; i++) out[i] = fn(x[i], y[ib![i]!]);
  else if (!ib) for (let i = 0; i < n; i++) out[i] = fn(x[ia[i]!], y[i]);
  else for (let i = 0; i < n; i++) out[i] = fn(x[ia[i]!], y[ib[i]!]);
  return roundTo(makeTensor(outDType, shape, out as Data));
}

const b01 = (c: boolean) => (c ? 1 : 0);

/** Python-style modulo (sign of the divisor), ONNX Mod with fmod=0. */
function floorMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}
function floorModBig(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const r = a % b;
  return r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
}

const SPECS: Record<string, BinarySpec> = {
  Add: { num: (a, b) => a + b, big: (a, b) => a + b },
  Sub: { num: (a, b) => a - b, big: (a, b) => a - b },
  Mul: { num: (a, b) => a * b, int: (a, b) => Math.imul(a, b), big: (a, b) => a * b },
  // Integer division truncates toward zero (C); division by zero gives 0 rather than a crash.
  Div: { num: (a, b) => a / b, int: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)), big: (a, b) => (b === 0n ? 0n : a / b) },
  And: { num: (a, b) => a & b },
  Or: { num: (a, b) => a | b },
  Xor: { num: (a, b) => a ^ b },
  Equal: { num: (a, b) => b01(a === b), big: (a, b) => b01(a === b), str: (a, b) => b01(a === b), out: 'bool' },
  Greater: { num: (a, b) => b01(a > b), big: (a, b) => b01(a > b), out: 'bool' },
  Less: { num: (a, b) => b01(a < b), big: (a, b) => b01(a < b), out: 'bool' },
  GreaterOrEqual: { num: (a, b) => b01(a >= b), big: (a, b) => b01(a >= b), out: 'bool' },
  LessOrEqual: { num: (a, b) => b01(a <= b), big: (a, b) => b01(a <= b), out: 'bool' },
};

for (const [op, spec] of Object.entries(SPECS)) {
  defineOnnxEvals([op], (ctx) => [binary(ctx.tensor(0), ctx.tensor(1), spec, op)]);
}

defineOnnxEvals(['Mod'], (ctx) => {
  const fmod = ctx.int('fmod', 0) === 1;
  const spec: BinarySpec = fmod
    ? { num: (a, b) => a % b, int: (a, b) => (b === 0 ? 0 : a % b), big: (a, b) => (b === 0n ? 0n : a % b) }
    : { num: floorMod, big: floorModBig };
  return [binary(ctx.tensor(0), ctx.tensor(1), spec, 'Mod')];
});

defineOnnxEvals(['Pow'], (ctx) => {
  const x = ctx.tensor(0);
  const y = ctx.tensor(1);
  // The exponent may have another dtype than the base; the result has the base's.
  if (isBigDType(x.dtype)) {
    const toBig = (v: Elem) => BigInt(typeof v === 'bigint' ? v : Math.trunc(v));
    return [apply2(x, y, (a: bigint, b: Elem) => (toBig(b) < 0n ? (a === 1n ? 1n : 0n) : a ** toBig(b)), x.dtype)];
  }
  const int = !isFloat(x.dtype);
  return [apply2(x, y, (a: number, b: Elem) => (int ? Math.trunc(Math.pow(a, Number(b))) : Math.pow(a, Number(b))), x.dtype)];
});

defineOnnxEvals(['BitShift'], (ctx) => {
  const left = ctx.string('direction') === 'LEFT';
  const x = ctx.tensor(0);
  const bits = x.dtype === 'u8' ? 8 : x.dtype === 'u16' ? 16 : 32;
  const spec: BinarySpec = {
    // Shifting by the width or more gives 0, rather than JS's shift-count-mod-32.
    num: left ? (a, b) => (b >= bits ? 0 : (a << b) >>> 0) : (a, b) => (b >= bits ? 0 : a >>> b),
    big: left ? (a, b) => (b >= 64n ? 0n : a << b) : (a, b) => (b >= 64n ? 0n : a >> b),
  };
  return [binary(x, ctx.tensor(1), spec, 'BitShift')];
});

/** Fold a variadic op over its operands, broadcasting pairwise. */
function variadic(ctx: EvalContext, spec: BinarySpec, what: string): Tensor {
  let acc = ctx.tensor(0);
  for (let i = 1; i < ctx.numInputs; i++) acc = binary(acc, ctx.tensor(i), spec, what);
  return acc;
}

// Max/Min propagate NaN, as numpy and ONNX Runtime do.
const MAX: BinarySpec = { num: (a, b) => (a !== a || a >= b ? a : b), big: (a, b) => (a >= b ? a : b) };
const MIN: BinarySpec = { num: (a, b) => (a !== a || a <= b ? a : b), big: (a, b) => (a <= b ? a : b) };
defineOnnxEvals(['Sum'], (ctx) => [variadic(ctx, SPECS.Add!, 'Sum')]);
defineOnnxEvals(['Max'], (ctx) => [variadic(ctx, MAX, 'Max')]);
defineOnnxEvals(['Min'], (ctx) => [variadic(ctx, MIN, 'Min')]);
defineOnnxEvals(['Mean'], (ctx) => {
  const sum = variadic(ctx, SPECS.Add!, 'Mean');
  const n = ctx.numInputs;
  const out = allocData(sum.dtype, sum.data.length) as AnyArray;
  const s = sum.data as AnyArray;
  for (let i = 0; i < out.length; i++) out[i] = s[i] / n;
  return [roundTo(makeTensor(sum.dtype, sum.shape, out as Data))];
});

defineOnnxEvals(['PRelu'], (ctx) => {
  const x = ctx.tensor(0);
  let slope = ctx.tensor(1);
  // Before opset 7 a 1-D slope of C values applies per channel (axis 1), not numpy-style.
  if (ctx.opset < 7 && slope.shape.length === 1 && x.shape.length > 2 && slope.shape[0] === x.shape[1] && slope.shape[0] !== 1) {
    slope = reshaped(slope, [slope.shape[0]!, ...x.shape.slice(2).map(() => 1)]);
  }
  return [binary(x, slope, { num: (v, s) => (v < 0 ? s * v : v), big: (v, s) => (v < 0n ? s * v : v) }, 'PRelu')];
});

defineOnnxEvals(['Where'], (ctx) => {
  const c = ctx.tensor(0);
  const x = ctx.tensor(1);
  const y = ctx.tensor(2);
  if (x.dtype !== y.dtype) ctx.fail(`Where: X is ${x.dtype} but Y is ${y.dtype}`);
  const shape = broadcastShape([c.shape, x.shape, y.shape]);
  const ic = broadcastIndex(c.shape, shape);
  const ix = broadcastIndex(x.shape, shape);
  const iy = broadcastIndex(y.shape, shape);
  const n = shape.reduce((p, d) => p * d, 1);
  const cd = c.data as AnyArray;
  const xd = x.data as AnyArray;
  const yd = y.data as AnyArray;
  const out = allocData(x.dtype, n) as AnyArray;
  for (let i = 0; i < n; i++) {
    out[i] = cd[ic ? ic[i]! : i] ? xd[ix ? ix[i]! : i] : yd[iy ? iy[i]! : i];
  }
  return [makeTensor(x.dtype, shape, out as Data)];
});
