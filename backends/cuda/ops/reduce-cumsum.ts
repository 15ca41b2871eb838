// CumSum along a constant axis, with `exclusive` (a sum leaves out its own element) and `reverse`
// (sums run from the end). Lines along the innermost axis are scanned by one block each, a tile
// of blockDim elements at a time (warp scans by __shfl_up_sync, warp totals in __shared__, a
// carry between tiles), so loads coalesce; lines along an outer axis are one thread each, a
// warp's lanes walking adjacent lines. Floats accumulate in float (f64 in double); integers in
// 64-bit unsigned arithmetic, which wraps as the narrower result does.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import type { CudaKernel } from '../kernel.ts';
import { blocksFor, cudaKernel } from '../kernel.ts';
import { defineOnnxCuda } from '../lowering.ts';
import type { Compute } from './rows.ts';
import { bindRead, bindWrite, computeOf, elemOf, isFloatElem, literal, loadAs, normAxis, numElements, storeAs } from './rows.ts';

defineOnnxCuda(['CumSum'], (ctx): CudaKernel[] => {
  const x = ctx.input(0)!;
  const e = elemOf(ctx, x);
  if (e === 'bool') ctx.unsupported('CumSum on bool');
  const c = ctx.constant(1) ?? ctx.unsupported('CumSum axis (operand 1) must be a constant for the CUDA backend');
  const r = x.shape.length;
  const axis = normAxis(toNumbers(fromConst(c))[0]!, r);
  const exclusive = ctx.int('exclusive', 0) !== 0;
  const reverse = ctx.int('reverse', 0) !== 0;
  const total = numElements(x.shape);
  if (total === 0) return [];
  const n = x.shape[axis]!;
  const inner = numElements(x.shape.slice(axis + 1));
  const lines = total / n;
  const float = isFloatElem(e);
  const acc: Compute = float ? computeOf(e) : 'unsigned long long';
  const loadType: Compute = float ? acc : e === 'i8' || e === 'i16' || e === 'i32' || e === 'i64' ? 'long long' : 'unsigned long long';
  const xb = bindRead(ctx, 'x', x);
  const yb = bindWrite(ctx, 'y', ctx.output(0)!);
  const ld = (at: string) => (float ? loadAs(`x[${at}]`, e, acc) : `(${acc})${loadAs(`x[${at}]`, e, loadType)}`);
  const zero = float ? literal(0, acc) : '0ULL';
  const pos = (p: string) => (reverse ? `${n - 1}u - ${p}` : p);
  const common = { name: ctx.kernelName('cumsum'), node: ctx.node.name, op: ctx.node.op, bindings: [xb, yb] };

  if (inner === 1 && n > 32) {
    const threads = Math.min(512, 2 ** Math.ceil(Math.log2(n)));
    const warps = threads / 32;
    const body = [
      `  const unsigned base = blockIdx.x * ${n}u;`,
      '  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;',
      `  __shared__ ${acc} tot[${warps}];`,
      `  ${acc} carry = ${zero};`,
      `  for (unsigned t0 = 0u; t0 < ${n}u; t0 += ${threads}u) {`,
      '    const unsigned p = t0 + threadIdx.x;',
      `    const bool in = p < ${n}u;`,
      `    const unsigned j = base + (in ? ${pos('p')} : 0u);`,
      `    const ${acc} v = in ? ${ld('j')} : ${zero};`,
      `    ${acc} s = v;`,
      '    for (unsigned d = 1u; d < 32u; d <<= 1) {',
      `      const ${acc} o = __shfl_up_sync(0xffffffffu, s, d);`,
      '      if (lane >= d) s += o;',
      '    }',
      // The exclusive sum is the previous lane's inclusive one (no inexact s − v).
      ...(exclusive ? [`    ${acc} ex = __shfl_up_sync(0xffffffffu, s, 1);`, `    if (lane == 0u) ex = ${zero};`] : []),
      '    if (lane == 31u) tot[warp] = s;',
      '    __syncthreads();',
      `    ${acc} before = carry;`,
      '    for (unsigned w = 0u; w < warp; ++w) before += tot[w];',
      `    for (unsigned w = 0u; w < ${warps}u; ++w) carry += tot[w];`,
      `    if (in) y[j] = ${storeAs(exclusive ? 'before + ex' : 'before + s', yb.elem)};`,
      '    __syncthreads();',
      '  }',
    ];
    return [cudaKernel({ ...common, body: body.join('\n'), grid: lines, block: threads })];
  }
  const threads = 128;
  const body = [
    `  const unsigned line = blockIdx.x * ${threads}u + threadIdx.x;`,
    `  if (line >= ${lines}u) return;`,
    `  const unsigned base = ${inner === 1 ? `line * ${n}u` : `(line / ${inner}u) * ${n * inner}u + line % ${inner}u`};`,
    `  ${acc} acc = ${zero};`,
    `  for (unsigned s = 0u; s < ${n}u; ++s) {`,
    `    const unsigned j = base + (${pos('s')})${inner === 1 ? '' : ` * ${inner}u`};`,
    ...(exclusive ? [`    y[j] = ${storeAs('acc', yb.elem)};`, `    acc += ${ld('j')};`] : [`    acc += ${ld('j')};`, `    y[j] = ${storeAs('acc', yb.elem)};`]),
    '  }',
  ];
  return [cudaKernel({ ...common, body: body.join('\n'), grid: blocksFor(lines, threads), block: threads })];
});
