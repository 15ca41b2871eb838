// LRN, MaxUnpool and Det as the interpreter defines them (ir/interp/ops/norm-extra.ts,
// pool-extra.ts, einsum.ts), ported from the WGSL lowering (backends/wgsl/ops/misc.ts). One thread
// per result element (per matrix for Det). ReverseSequence lives in extra.ts.
import { lrnParams, maxUnpoolGeometry } from '../../shared/misc-plan.ts';
import type { CudaElem } from '../kernel.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, literal, load, numElements, perElementKernel, readBinding, store, stridesOf, u, writeBinding } from './index-util.ts';

const isFloatElem = (e: CudaElem) => e === 'f32' || e === 'f64' || e === 'f16' || e === 'bf16';

// LRN: y = x / (bias + alpha/size · Σ x²)^beta over the channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]
// clipped to [0, C). Float storage computes in float, f64 in double.
defineOnnxCuda(['LRN'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const e = elemOf(ctx, x);
  if (!isFloatElem(e)) return ctx.unsupported(`LRN on ${x.dtype}`);
  if (x.shape.length < 2) return ctx.unsupported('LRN needs rank ≥ 2');
  const n = numElements(x.shape);
  if (n === 0) return [];
  const { size, alpha, beta, bias, C, P, lo, hi } = lrnParams(ctx, x);
  const dbl = e === 'f64';
  const ct = dbl ? 'double' : 'float';
  const k = (v: number) => (dbl ? literal(v, 'f64') : literal(Math.fround(v), 'f32'));
  return [
    perElementKernel(ctx, 'lrn', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y)], n, [
      `const int c = (int)((flat / ${u(P)}) % ${u(C)});`,
      `const unsigned base = flat - (unsigned)c * ${u(P)};`,
      `${ct} s = 0;`,
      `for (int q = c - ${lo} < 0 ? 0 : c - ${lo}; q <= (c + ${hi} > ${C - 1} ? ${C - 1} : c + ${hi}); ++q) {`,
      `  const ${ct} v = ${load(`x[base + (unsigned)q * ${u(P)}]`, e)};`,
      '  s += v * v;',
      '}',
      `y[flat] = ${store(`${load('x[flat]', e)} / ${dbl ? 'pow' : 'powf'}(${k(bias)} + ${k(alpha / size)} * s, ${k(beta)})`, elemOf(ctx, y))};`,
    ]),
  ];
});

// MaxUnpool: a zero result, then each element of X written at its flat index I over the default
// result shape ((in − 1)·stride + kernel − pads per spatial dim); a given output_shape keeps each
// element at its multi-index (cropping what falls outside), as the interpreter reads it. The
// result's static shape is that output_shape. Equal indices race (the interpreter keeps the
// last); an index outside the result is skipped.
defineOnnxCuda(['MaxUnpool'], (ctx) => {
  const x = ctx.input(0)!;
  const idx = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { inferred, nInf, same } = maxUnpoolGeometry(ctx, x, y);
  const shape = y.shape;
  const n = numElements(shape);
  if (n === 0) return [];
  const ye = elemOf(ctx, y);
  const zero = perElementKernel(ctx, 'maxunpool_zero', [writeBinding(ctx, 'y', y)], n, [`y[flat] = ${literal(0, ye)};`]);
  const nx = numElements(x.shape);
  if (nx === 0) return [zero];
  const outStrides = stridesOf(shape);
  // Flat index over `inferred` → over `shape`, or skip where cropped away.
  const remap: string[] = same
    ? ['const unsigned o = j;']
    : [
        'unsigned rest = j;',
        'unsigned o = 0u;',
        ...inferred
          .map((_, d) => d)
          .reverse()
          .map((d) => `{ const unsigned c = rest % ${u(inferred[d]!)}; rest /= ${u(inferred[d]!)}; if (c >= ${u(shape[d]!)}) return; o += c * ${u(outStrides[d]!)}; }`),
      ];
  const scatter = perElementKernel(ctx, 'maxunpool', [readBinding(ctx, 'x', x), readBinding(ctx, 'ind', idx), writeBinding(ctx, 'y', y)], nx, [
    'const long long ji = (long long)ind[flat];',
    `if (ji < 0 || ji >= ${nInf}ll) return;`,
    'const unsigned j = (unsigned)ji;',
    ...remap,
    'y[o] = x[flat];',
  ]);
  return [zero, scatter];
});

// Det of each trailing [M, M] matrix: LU with partial pivoting in double (as the interpreter),
// one thread per matrix, on a copy in a scratch buffer (any M).
defineOnnxCuda(['Det'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  const e = elemOf(ctx, x);
  if (!isFloatElem(e)) return ctx.unsupported(`Det on ${x.dtype}`);
  const m = x.shape[r - 1]!;
  if (r < 2 || x.shape[r - 2] !== m) return ctx.unsupported(`Det needs square matrices, got [${x.shape.join(', ')}]`);
  const nb = numElements(x.shape.slice(0, -2));
  if (nb === 0) return [];
  const mm = m * m;
  const scratch = { value: `${ctx.node.name}::det_lu`, access: 'read_write' as const, elem: 'f64' as const, param: 'a', scratchBytes: Math.max(8, nb * mm * 8) };
  const at = (i: string, j: string) => `a[o + ${i} * ${u(m)} + ${j}]`;
  return [
    perElementKernel(ctx, 'det', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y), scratch], nb, [
      `const unsigned o = flat * ${u(mm)};`,
      `for (unsigned i = 0u; i < ${u(mm)}; ++i) a[o + i] = (double)${load('x[o + i]', e)};`,
      'double det = 1.0;',
      `for (unsigned c = 0u; c < ${u(m)}; ++c) {`,
      '  unsigned piv = c;',
      `  for (unsigned i = c + 1u; i < ${u(m)}; ++i) if (fabs(${at('i', 'c')}) > fabs(${at('piv', 'c')})) piv = i;`,
      `  if (${at('piv', 'c')} == 0.0) { det = 0.0; break; }`,
      '  if (piv != c) {',
      `    for (unsigned j = 0u; j < ${u(m)}; ++j) { const double t = ${at('c', 'j')}; ${at('c', 'j')} = ${at('piv', 'j')}; ${at('piv', 'j')} = t; }`,
      '    det = -det;',
      '  }',
      `  const double d = ${at('c', 'c')};`,
      '  det *= d;',
      `  for (unsigned i = c + 1u; i < ${u(m)}; ++i) {`,
      `    const double f = ${at('i', 'c')} / d;`,
      `    if (f != 0.0) for (unsigned j = c; j < ${u(m)}; ++j) ${at('i', 'j')} -= f * ${at('c', 'j')};`,
      '  }',
      '}',
      `y[flat] = ${store('det', elemOf(ctx, y))};`,
    ]),
  ];
});
