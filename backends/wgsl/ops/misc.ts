// LRN, EyeLike, ReverseSequence, MaxUnpool and Det, each as the interpreter defines them
// (ir/interp/ops/norm-extra.ts, misc-extra.ts, pool-extra.ts, einsum.ts), with sizes baked into
// the WGSL (shapes are static after specialization).
import { lrnParams, maxUnpoolGeometry, reverseSequenceGeometry } from '../../shared/misc-plan.ts';
import { numElements, stridesOf } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { perElementKernel } from '../template.ts';
import { readVar, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { f, u } from './kernel-util.ts';


/** One thread per element of `n` (`flat` in scope in `body`). */
function perElement(ctx: LowerContext, what: string, key: string, n: number, vars: BoundVar[], body: string[], helpers: string[] = []): Kernel[] {
  return perElementKernel(ctx, what, key, n, vars, body, { helpers });
}

/** A stored element read as f32 (f16 storage widened). */
const asF32 = (v: BoundVar, at: string) => (v.binding.elem === 'f32' ? `${v.name}[${at}]` : `f32(${v.name}[${at}])`);

// LRN: y = x / (bias + alpha/size · Σ x²)^beta over the channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]
// clipped to [0, C).
defineOnnxWgsl(['LRN'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  if (ctypeOf(x.dtype) !== 'f32') return ctx.unsupported(`LRN on ${x.dtype}`);
  if (x.shape.length < 2) return ctx.unsupported('LRN needs rank ≥ 2');
  const { size, alpha, beta, bias, C, P, lo, hi } = lrnParams(ctx, x);
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  return perElement(ctx, 'lrn', `C${C}P${P}`, numElements(x.shape), [xv, yv], [
    `let c = i32((flat / ${u(P)}) % ${u(C)});`,
    `let base = flat - u32(c) * ${u(P)};`,
    'var s = 0.0;',
    `for (var k = max(0, c - ${lo}); k <= min(${C - 1}, c + ${hi}); k++) {`,
    `  let v = ${asF32(xv, `base + u32(k) * ${u(P)}`)};`,
    '  s += v * v;',
    '}',
    `y[flat] = ${yv.binding.elem}(${asF32(xv, 'flat')} / pow(${f(bias)} + ${f(alpha / size)} * s, ${f(beta)}));`,
  ]);
});

// EyeLike: ones on the diagonal shifted by k, zeros elsewhere, in the `dtype` attribute's type
// (the input's by default). The input is only its shape.
defineOnnxWgsl(['EyeLike'], (ctx) => {
  const y = ctx.output(0)!;
  if (y.shape.length !== 2) return ctx.unsupported('EyeLike needs a 2-D input');
  const k = ctx.int('k', 0);
  const [R, C] = y.shape as [number, number];
  const yv = writeVar(ctx, 'y', y);
  const e = yv.binding.elem;
  return perElement(ctx, 'eyelike', e, R * C, [yv], [
    `let i = i32(flat / ${u(C)});`,
    `let j = i32(flat % ${u(C)});`,
    `y[flat] = select(${e}(0), ${e}(1), j - i == ${k | 0});`,
  ]);
});

// ReverseSequence: element (t, b, …) reads time len[b] − 1 − t of its batch where t < len[b],
// else itself. The lengths are read from their buffer (i64 held as i32).
defineOnnxWgsl(['ReverseSequence'], (ctx) => {
  const x = ctx.input(0)!;
  const lens = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { T, B, ts, bs } = reverseSequenceGeometry(ctx, x);
  return perElement(ctx, 'reverse_sequence', `${T}x${B}`, numElements(x.shape), [readVar(ctx, 'x', x), readVar(ctx, 'lens', lens), writeVar(ctx, 'y', y)], [
    `let t = i32((flat / ${u(ts)}) % ${u(T)});`,
    `let b = (flat / ${u(bs)}) % ${u(B)};`,
    'let len = i32(lens[b]);',
    `let src = select(i32(flat), i32(flat) + (len - 1 - 2 * t) * ${ts}, t < len);`,
    'y[flat] = x[u32(src)];',
  ]);
});

// MaxUnpool: a zero result, then each element of X written at its flat index I over the default
// result shape ((in − 1)·stride + kernel − pads per spatial dim); a given output_shape keeps each
// element at its multi-index (cropping what falls outside), as the interpreter reads it. The
// result's static shape is that output_shape. Equal indices race (the interpreter keeps the last).
defineOnnxWgsl(['MaxUnpool'], (ctx) => {
  const x = ctx.input(0)!;
  const idx = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { inferred, nInf, same } = maxUnpoolGeometry(ctx, x, y);
  const shape = y.shape;
  const yv = writeVar(ctx, 'y', y);
  const e = yv.binding.elem;
  const zero = perElement(ctx, 'maxunpool_zero', e, numElements(shape), [yv], [`y[flat] = ${e}(0);`]);
  const outStrides = stridesOf(shape);
  // Flat index over `inferred` → over `shape`, or skip where cropped away.
  const remap: string[] = same
    ? ['let o = j;']
    : [
        'var rest = j;',
        'var o = 0u;',
        ...inferred
          .map((_, d) => d)
          .reverse()
          .flatMap((d) => [`{ let c = rest % ${u(inferred[d]!)}; rest = rest / ${u(inferred[d]!)}; if (c >= ${u(shape[d]!)}) { return; } o += c * ${u(outStrides[d]!)}; }`]),
      ];
  const scatter = perElement(ctx, 'maxunpool', `${same ? 'same' : 'remap'}/${e}`, numElements(x.shape), [readVar(ctx, 'x', x), readVar(ctx, 'ind', idx), yv], [
    'let ji = i32(ind[flat]);',
    `if (ji < 0 || ji >= ${nInf | 0}) { return; }`,
    'let j = u32(ji);',
    ...remap,
    'y[o] = x[flat];',
  ]);
  return [...zero, ...scatter];
});

// Det of each trailing [M, M] matrix: LU with partial pivoting in f32, one thread per matrix,
// working on a copy in a scratch buffer (any M).
defineOnnxWgsl(['Det'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  if (ctypeOf(x.dtype) !== 'f32') return ctx.unsupported(`Det on ${x.dtype}`);
  const m = x.shape[r - 1]!;
  if (r < 2 || x.shape[r - 2] !== m) return ctx.unsupported(`Det needs square matrices, got [${x.shape.join(', ')}]`);
  const nb = numElements(x.shape.slice(0, -2));
  if (nb === 0) return [];
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  const mm = m * m;
  const a: BoundVar = { name: 'a', binding: { value: `${ctx.node.name}/det_lu`, access: 'read_write', elem: 'f32', scratchBytes: Math.max(4, nb * mm * 4) } };
  return perElement(ctx, 'det', `m${m}`, nb, [xv, yv, a], [
    `let o = flat * ${u(mm)};`,
    `for (var i = 0u; i < ${u(mm)}; i++) { a[o + i] = ${asF32(xv, 'o + i')}; }`,
    'var det = 1.0;',
    `for (var c = 0u; c < ${u(m)}; c++) {`,
    '  var piv = c;',
    `  for (var i = c + 1u; i < ${u(m)}; i++) { if (abs(a[o + i * ${u(m)} + c]) > abs(a[o + piv * ${u(m)} + c])) { piv = i; } }`,
    `  if (a[o + piv * ${u(m)} + c] == 0.0) { det = 0.0; break; }`,
    '  if (piv != c) {',
    `    for (var j = 0u; j < ${u(m)}; j++) {`,
    `      let t = a[o + c * ${u(m)} + j];`,
    `      a[o + c * ${u(m)} + j] = a[o + piv * ${u(m)} + j];`,
    `      a[o + piv * ${u(m)} + j] = t;`,
    '    }',
    '    det = -det;',
    '  }',
    `  let d = a[o + c * ${u(m)} + c];`,
    '  det *= d;',
    `  for (var i = c + 1u; i < ${u(m)}; i++) {`,
    `    let fi = a[o + i * ${u(m)} + c] / d;`,
    `    if (fi != 0.0) { for (var j = c; j < ${u(m)}; j++) { a[o + i * ${u(m)} + j] -= fi * a[o + c * ${u(m)} + j]; } }`,
    '  }',
    '}',
    `y[flat] = ${yv.binding.elem}(det);`,
  ]);
});
