// Elementwise unary ops: math functions, rounding, sign, logic not, NaN/Inf tests, Identity.
// Floats are computed in double and rounded to the result dtype on store.
import type { DType } from '../../dtype.ts';
import { roundHalfEven } from '../float.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo } from '../tensor.ts';
import type { AnyArray } from './util.ts';

/** Apply `num` (or `big` on i64/u64) to every element; the result has `out` or the input's dtype. */
export function unary(t: Tensor, num: (x: number) => number, big?: (x: bigint) => bigint | number, out?: DType): Tensor {
  const dtype = out ?? t.dtype;
  const fn: (x: any) => any = isBigDType(t.dtype) ? big! : num;
  if (!fn) throw evalError(`not defined on ${t.dtype}`);
  if (t.dtype === 'string') throw evalError('not defined on strings');
  const src = t.data as AnyArray;
  const n = src.length;
  const res = allocData(dtype, n) as AnyArray;
  for (let i = 0; i < n; i++) res[i] = fn(src[i]);
  return roundTo(makeTensor(dtype, t.shape, res as Data));
}

/** erf(x) to double precision: erf = 2/√π · e^(−x²) · Σ 2ⁿx^(2n+1)/(1·3···(2n+1)), all terms positive. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x); // erfc(6) ≈ 2e-17: below double resolution near 1
  let term = a;
  let sum = a;
  const x2 = a * a;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

const FUNCS: Record<string, (x: number) => number> = {
  Sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  Tanh: Math.tanh,
  Exp: Math.exp,
  Log: Math.log,
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: roundHalfEven,
  Erf: erf,
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Asin: Math.asin,
  Acos: Math.acos,
  Atan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Asinh: Math.asinh,
  Acosh: Math.acosh,
  Atanh: Math.atanh,
  Softsign: (x) => x / (1 + Math.abs(x)),
};
for (const [op, f] of Object.entries(FUNCS)) defineOnnxEvals([op], (ctx) => [unary(ctx.tensor(0), f)]);

defineOnnxEvals(['Abs'], (ctx) => [unary(ctx.tensor(0), Math.abs, (x) => (x < 0n ? -x : x))]);
defineOnnxEvals(['Neg'], (ctx) => [unary(ctx.tensor(0), (x) => -x, (x) => -x)]);
defineOnnxEvals(['Sign'], (ctx) => [unary(ctx.tensor(0), (x) => (x > 0 ? 1 : x < 0 ? -1 : x), (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n))]);
defineOnnxEvals(['Relu'], (ctx) => [unary(ctx.tensor(0), (x) => (x > 0 ? x : x === x ? 0 : x), (x) => (x > 0n ? x : 0n))]);
defineOnnxEvals(['Not'], (ctx) => [unary(ctx.tensor(0), (x) => (x ? 0 : 1))]);
defineOnnxEvals(['IsNaN'], (ctx) => [unary(ctx.tensor(0), (x) => (x !== x ? 1 : 0), undefined, 'bool')]);
defineOnnxEvals(['IsInf'], (ctx) => {
  const pos = ctx.int('detect_positive', 1) === 1;
  const neg = ctx.int('detect_negative', 1) === 1;
  return [unary(ctx.tensor(0), (x) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0), undefined, 'bool')];
});
// Identity passes any value (tensor, sequence, optional) through: values are immutable.
defineOnnxEvals(['Identity'], (ctx) => [ctx.value(0)]);
