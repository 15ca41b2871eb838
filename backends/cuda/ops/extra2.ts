// Dropout and Hardmax, ported from the WGSL backend (extra.ts) with the interpreter's semantics.
// Dropout at inference is the identity (an alias, or a copy plus an all-true mask when the mask
// is wanted); in training mode it draws the interpreter's own seeded mask (mulberry32, whose
// state after k draws is seed + k·0x6d2b79f5, so each thread computes its element's draw
// directly). Hardmax runs on the row template (./rows.ts): the row's first maximum, then 1 there
// and 0 elsewhere.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { softmaxAxes } from '../../shared/softmax-axes.ts';
import type { CudaKernel } from '../kernel.ts';
import type { Alias, CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, literal, load, numElements, perElementKernel, readBinding, store, writeBinding } from './index-util.ts';
import { bindRead, bindWrite, computeOf, isFloatElem, loadAs, rowKernel, storeAs } from './rows.ts';
import { DEFAULT_SEED } from '../../../ir/interp/ops/random-util.ts';

/** A constant scalar operand's value, undefined where omitted; a computed one is unsupported. */
function constScalar(ctx: CudaContext, i: number, what: string): number | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return ctx.unsupported(`Dropout's ${what} (operand ${i}) must be a constant for the CUDA backend`);
  const v = toNumbers(fromConst(c));
  if (v.length !== 1) return ctx.unsupported(`Dropout's ${what} must hold one element`);
  return v[0]!;
}


/** The uniform draw number i (0-based) of the mulberry32 stream started at `seed`, in [0, 1). */
const MULBERRY = `__device__ __forceinline__ double lathe_mulberry32_at(unsigned seed, unsigned i) {
  const unsigned s = seed + (i + 1u) * 0x6d2b79f5u;
  unsigned t = (s ^ (s >> 15)) * (1u | s);
  t = (t + (t ^ (t >> 7)) * (61u | t)) ^ t;
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}`;

defineOnnxCuda(['Dropout'], (ctx): CudaKernel[] | Alias => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const mask = ctx.output(1);
  // Opset 12 moved ratio to an operand and added training_mode, the only way to ask for training.
  const training = ctx.opset >= 12 && (constScalar(ctx, 2, 'training_mode') ?? 0) !== 0;
  const ratio = training ? (constScalar(ctx, 1, 'ratio') ?? 0.5) : 0;
  const n = numElements(x.shape);
  if (!(training && ratio > 0)) {
    if (!mask) return { alias: [{ output: 0, input: 0 }] };
    if (n === 0) return [];
    // A copy and an all-kept mask (true, or 1 in the data's dtype before opset 10).
    const me = elemOf(ctx, mask);
    return [perElementKernel(ctx, 'dropout', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y), writeBinding(ctx, 'm', mask)], n, ['y[flat] = x[flat];', `m[flat] = ${literal(1, me)};`])];
  }
  if (n === 0) return [];
  const xe = elemOf(ctx, x);
  if (!isFloatElem(xe)) return ctx.unsupported(`Dropout in training mode on ${x.dtype}`);
  const seedBits = ctx.attr('seed') ? new Uint32Array(Float32Array.of(ctx.float('seed')).buffer)[0]! : 0;
  const seed = ctx.attr('seed') ? (seedBits ^ DEFAULT_SEED) >>> 0 : DEFAULT_SEED;
  // Kept elements are scaled by 1/(1 − ratio) in double (the interpreter's f64), then rounded.
  const scale = ratio < 1 ? 1 / (1 - ratio) : 0;
  const me = mask ? elemOf(ctx, mask) : undefined;
  const xv = xe === 'f64' ? 'x[flat]' : `(double)${load('x[flat]', xe)}`;
  const scaled = xe === 'f64' ? `${xv} * ${literal(scale, 'f64')}` : `(float)(${xv} * ${literal(scale, 'f64')})`;
  return [
    perElementKernel(ctx, 'dropout_train', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y), ...(mask ? [writeBinding(ctx, 'm', mask)] : [])], n, [
      `const bool keep = lathe_mulberry32_at(${seed >>> 0}u, flat) >= ${literal(ratio, 'f64')};`,
      `y[flat] = keep ? ${store(scaled, xe)} : ${literal(0, xe)};`,
      ...(mask && me ? [`m[flat] = keep ? ${literal(1, me)} : ${literal(0, me)};`] : []),
    ], [MULBERRY]),
  ];
});

// Hardmax: 1 at the first maximum of each row, 0 elsewhere. Rows as Softmax's: before opset 13
// all dims from `axis` (default 1) on, from 13 the one `axis` (default −1). The interpreter scans
// `x[k] > x[best]` from best = 0, so NaNs never win, and a NaN first element wins everything.
// Each thread keeps (bv, bi): its largest non-NaN value and the least index holding it; merges
// take the larger value, the lesser index on a tie.
defineOnnxCuda(['Hardmax'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  const e = elemOf(ctx, x);
  if (!isFloatElem(e)) return ctx.unsupported(`Hardmax on ${x.dtype}`);
  if (numElements(x.shape) === 0) return [];
  const c = computeOf(e);
  const reduced = softmaxAxes(ctx, r);
  const n = numElements(reduced.map((d) => x.shape[d]!));
  const NONE = `${n}u`;
  return rowKernel(ctx, {
    what: 'hardmax',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: x.shape,
    reduced,
    bindings: [bindWrite(ctx, 'y', y)],
    reduction: {
      vars: [
        { name: 'bv', type: c, init: `(${c})0` },
        { name: 'bi', type: 'unsigned', init: NONE },
      ],
      step: `if (v == v && (bi == ${NONE} || v > bv)) {\n  bv = v;\n  bi = k;\n}`,
      merge: `if (o_bi != ${NONE} && (bi == ${NONE} || o_bv > bv || (o_bv == bv && o_bi < bi))) {\n  bv = o_bv;\n  bi = o_bi;\n}`,
    },
    rowLets: [
      `const ${c} first = ${loadAs('x[base]', e, c)};`,
      `const unsigned best = first != first || bi == ${NONE} ? 0u : bi;`,
    ],
    elemWrites: ['(void)v;', `y[at] = ${storeAs(`k == best ? 1 : 0`, elemOf(ctx, y))};`],
  });
});
