// TopK: the k largest (or smallest) elements along an axis and their indices, always in sorted
// order (as the interpreter gives them for sorted = 0 too). One thread per element of the operand
// counts the elements of its line that come before it (greater, or smaller for largest = 0; equal
// values by lower index; NaN above every number and equal to NaN, as the interpreter's
// comparator), and when that rank is below k writes itself to that position. O(n²) per line, no
// sort pass and no atomics: the rank is a strict total order, so each of the k positions is
// written exactly once. k is the result's static size along the axis; a constant k operand must
// agree with it.
import { topKPlan } from '../../shared/topk-plan.ts';
import { C_TYPE } from '../kernel.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, load, perElementKernel, readBinding, u, writeBinding } from './index-util.ts';

defineOnnxCuda(['TopK'], (ctx) => {
  const x = ctx.input(0)!;
  const yv = ctx.output(0);
  const yi = ctx.output(1);
  const { n, k, largest, inner, total, empty } = topKPlan(ctx, x, yv, yi);
  if (empty) return [];
  const xe = elemOf(ctx, x);
  const isFloat = xe === 'f32' || xe === 'f64' || xe === 'f16' || xe === 'bf16';
  const ct = isFloat ? (xe === 'f64' ? 'double' : 'float') : C_TYPE[xe];
  // gt(a, b): a ranks above b in descending order; NaN is above every number.
  const helper = isFloat
    ? `__device__ __forceinline__ bool lathe_topk_gt(${ct} a, ${ct} b) { if (a != a) return b == b; if (b != b) return false; return a > b; }
__device__ __forceinline__ bool lathe_topk_eq(${ct} a, ${ct} b) { if (a != a || b != b) return a != a && b != b; return a == b; }`
    : `__device__ __forceinline__ bool lathe_topk_gt(${ct} a, ${ct} b) { return a > b; }
__device__ __forceinline__ bool lathe_topk_eq(${ct} a, ${ct} b) { return a == b; }`;
  const before = largest ? 'lathe_topk_gt(a, b)' : 'lathe_topk_gt(b, a)';
  const bindings = [readBinding(ctx, 'x', x), ...(yv ? [writeBinding(ctx, 'yv', yv)] : []), ...(yi ? [writeBinding(ctx, 'yi', yi)] : [])];
  const body = [
    `const unsigned o = flat / ${u(n * inner)};`,
    `const unsigned p = (flat / ${u(inner)}) % ${u(n)};`,
    `const unsigned i = flat % ${u(inner)};`,
    `const unsigned base = o * ${u(n * inner)} + i;`,
    `const ${ct} b = ${load('x[flat]', xe)};`,
    'unsigned rank = 0u;',
    `for (unsigned q = 0u; q < ${u(n)}; ++q) {`,
    `  const ${ct} a = ${load(`x[base + q * ${u(inner)}]`, xe)};`,
    `  if (${before} || (q < p && lathe_topk_eq(a, b))) ++rank;`,
    '}',
    `if (rank < ${u(k)}) {`,
    `  const unsigned at = o * ${u(k * inner)} + rank * ${u(inner)} + i;`,
    ...(yv ? ['  yv[at] = x[flat];'] : []),
    ...(yi ? [`  yi[at] = (${C_TYPE[elemOf(ctx, yi)]})p;`] : []),
    '}',
  ];
  // The helper's name is shared by every dtype: one definition per compute type (overloads).
  return [perElementKernel(ctx, 'topk', bindings, total, body, [helper])];
});
