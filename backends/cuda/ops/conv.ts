// Conv as an implicit GEMM on the CUDA-core tile of gemm-tile.ts, any number of spatial dims, with
// group (depthwise included), dilations, pads, strides and auto_pad. For image n and group g
// (grid z = n·group + g):
//   Y[n, g·Mg + m, p] = Σ_k W[g·Mg + m, k] · X̂[k, p] + bias[g·Mg + m]
// where k = (c, kernel position) runs over Cg·kSize and X̂ is the im2col matrix, never stored: the
// B loader gathers each element straight from X (0 in the padding). A 1×1 kernel with stride 1 and
// no padding reads X itself as B. ConvTranspose (below) is a direct gather kernel.
import { stridesOf } from '../../../ir/types.ts';
import type { CudaBinding } from '../kernel.ts';
import { blocksFor, cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import type { AccType } from './gemm-tile.ts';
import { accOf, elemOf, gemmTileBody, gemmTileGrid, lit, loadAs, MAX_GRID_YZ, madd, numElements, storeAs, UNROLL_HELPER } from './gemm-tile.ts';
import { convGeometry, convTransposePlan } from '../../shared/conv-plan.ts';

/** X, W, optional bias and Y as float bindings of one element type family. */
function convBindings(ctx: CudaContext, x: StaticTensor, w: StaticTensor, bias: StaticTensor | undefined, y: StaticTensor): { bindings: CudaBinding[]; acc: AccType } {
  const ex = elemOf(ctx, x);
  if (ex !== 'f32' && ex !== 'f16' && ex !== 'bf16' && ex !== 'f64') ctx.unsupported(`${ctx.node.op} of ${x.dtype} tensors`);
  if (w.dtype !== x.dtype) ctx.unsupported(`X is ${x.dtype} but W is ${w.dtype}`);
  const bindings: CudaBinding[] = [
    { value: x.name, access: 'read', elem: ex, param: 'x' },
    { value: w.name, access: 'read', elem: elemOf(ctx, w), param: 'w' },
    ...(bias ? [{ value: bias.name, access: 'read' as const, elem: elemOf(ctx, bias), param: 'bias' }] : []),
    { value: y.name, access: 'read_write', elem: elemOf(ctx, y), param: 'y' },
  ];
  return { bindings, acc: accOf(ex) };
}

defineOnnxCuda(['Conv'], (ctx) => {
  const x = ctx.input(0)!;
  const w = ctx.input(1)!;
  const bias = ctx.input(2);
  const y = ctx.output(0)!;
  const N = x.shape[0]!;
  // The attribute reading is the interpreter's, so the geometry cannot drift from the reference.
  const { C, inSp, M, group, kernel, win, Cg, Mg } = convGeometry(ctx, x, w);
  const kSize = numElements(kernel);
  const P = numElements(win.out);
  const K = Cg * kSize;
  const inPlane = numElements(inSp);
  if (numElements(y.shape) === 0) return [];
  const { bindings, acc } = convBindings(ctx, x, w, bias, y);
  const [ex, ew, eb] = [bindings[0]!.elem, bindings[1]!.elem, bias ? bindings[2]!.elem : undefined];
  const ey = bindings[bindings.length - 1]!.elem;
  const batches = N * group;
  if (batches > MAX_GRID_YZ) ctx.unsupported(`${batches} images × groups exceed the grid's z limit`);
  const direct = kSize === 1 && win.strides.every((s) => s === 1) && win.padBegin.every((p) => p === 0) && win.out.every((o, d) => o === inSp[d]);
  const kStr = stridesOf(kernel);
  const oStr = stridesOf(win.out);
  const iStr = stridesOf(inSp);
  // The im2col gather of X̂[k, p]: input coordinate i = o·stride − padBegin + kd·dilation per dim.
  const gather = (dst: string, k: string, p: string) => {
    if (direct) return `${dst} = ${loadAs(ex, acc, `x[xBase + ${k} * ${P}u + ${p}]`)};`;
    const lines = [`const unsigned c = ${k} / ${kSize}u, kr = ${k} % ${kSize}u;`, `unsigned off = xBase + c * ${inPlane}u;`, 'bool inside = true;'];
    inSp.forEach((size, d) => {
      const o = `(int)((${p} / ${oStr[d]}u) % ${win.out[d]}u)`;
      const kd = `(int)((kr / ${kStr[d]}u) % ${kernel[d]}u)`;
      lines.push(
        `const int i${d} = ${o} * ${win.strides[d]} - ${win.padBegin[d]} + ${kd} * ${win.dilations[d]};`,
        `inside = inside && i${d} >= 0 && i${d} < ${size};`,
        `off += (unsigned)i${d} * ${iStr[d]}u;`,
      );
    });
    lines.push(`if (inside) ${dst} = ${loadAs(ex, acc, 'x[off]')};`);
    return `{\n        ${lines.join('\n        ')}\n      }`;
  };
  const reg = acc === 'float' && Mg >= 128 && P >= 512 ? 8 : 4;
  const body = gemmTileBody({
    M: Mg, N: P, K, batches, acc, reg,
    aAlong: 'k', bAlong: 'n',
    // Image n, group g: X's channels g·Cg …, W's rows g·Mg …, Y's channels g·Mg ….
    prologue: `const unsigned n_img = z / ${group}u, g = z % ${group}u;
  const unsigned xBase = (n_img * ${C}u + g * ${Cg}u) * ${inPlane}u;
  const unsigned wBase = g * ${Mg * K}u;
  const unsigned yBase = (n_img * ${M}u + g * ${Mg}u) * ${P}u;`,
    loadA: (dst, m, k) => `${dst} = ${loadAs(ew, acc, `w[wBase + ${m} * ${K}u + ${k}]`)};`,
    loadB: gather,
    store: (m, p, v) => {
      const r = bias ? `${v} + ${loadAs(eb!, acc, `bias[g * ${Mg}u + ${m}]`)}` : v;
      return `y[yBase + ${m} * ${P}u + ${p}] = ${storeAs(ey, r)};`;
    },
  });
  return [cudaKernel({
    name: ctx.kernelName('conv_igemm'), node: ctx.node.name, op: ctx.node.op, bindings,
    helpers: [UNROLL_HELPER],
    body: K === 0 ? `  (void)x; (void)w;\n${body}` : body,
    grid: gemmTileGrid({ M: Mg, N: P, batches, reg }), block: 256,
  })];
});

// ConvTranspose as a gather: one thread per output element sums, over its group's input channels
// and the kernel positions, the input positions i that scatter onto it
// (o = i·stride − padBegin + k·dilation, so i = (o + padBegin − k·dilation) / stride when that
// divides exactly and lands inside the input). No atomics, no col buffer.
defineOnnxCuda(['ConvTranspose'], (ctx) => {
  const x = ctx.input(0)!;
  const w = ctx.input(1)!;
  const bias = ctx.input(2);
  const y = ctx.output(0)!;
  const { C, inSp, r, group, Cg, Mg, M, kernel, strides, dilations, outSp, padBegin } = convTransposePlan(ctx, x, w, y);
  const total = numElements(y.shape);
  if (total === 0) return [];
  const { bindings, acc } = convBindings(ctx, x, w, bias, y);
  const [ex, ew, eb] = [bindings[0]!.elem, bindings[1]!.elem, bias ? bindings[2]!.elem : undefined];
  const ey = bindings[bindings.length - 1]!.elem;
  const P = numElements(outSp);
  const kSize = numElements(kernel);
  const inPlane = numElements(inSp);
  const oStr = stridesOf(outSp);
  const iStr = stridesOf(inSp);
  const kStr = stridesOf(kernel);
  const T = 128;
  const blocks = blocksFor(total, T);
  if (blocks > 2 ** 31 - 1) ctx.unsupported('too many output elements for one launch');
  const dims = inSp.map((size, d) => `const int k${d} = (int)((kr / ${kStr[d]}u) % ${kernel[d]}u);
      const int s${d} = o${d} + ${padBegin[d]} - k${d} * ${dilations[d]};
      if (s${d} < 0 || s${d} % ${strides[d]} != 0 || s${d} / ${strides[d]} >= ${size}) continue;
      const unsigned i${d} = (unsigned)(s${d} / ${strides[d]});`).join('\n      ');
  const inOff = inSp.map((_, d) => `i${d} * ${iStr[d]}u`).join(' + ') || '0u';
  const body = `  const unsigned t = blockIdx.x * ${T}u + threadIdx.x;
  if (t >= ${total}u) return;
  const unsigned p = t % ${P}u;
  const unsigned ch = (t / ${P}u) % ${M}u;
  const unsigned n = t / ${M * P}u;
  const unsigned g = ch / ${Mg}u, ml = ch % ${Mg}u;
  ${outSp.map((o, d) => `const int o${d} = (int)((p / ${oStr[d]}u) % ${o}u);`).join('\n  ')}
  ${acc} acc = ${bias ? loadAs(eb!, acc, 'bias[ch]') : lit(acc, 0)};
  for (unsigned c = 0; c < ${Cg}u; c++) {
    const unsigned cin = g * ${Cg}u + c;
    const unsigned xBase = (n * ${C}u + cin) * ${inPlane}u;
    const unsigned wBase = (cin * ${Mg}u + ml) * ${kSize}u;
    for (unsigned kr = 0; kr < ${kSize}u; kr++) {
      ${dims}
      acc = ${madd(acc, loadAs(ex, acc, `x[xBase + ${inOff}]`), loadAs(ew, acc, 'w[wBase + kr]'), 'acc')};
    }
  }
  y[t] = ${storeAs(ey, 'acc')};`;
  return [cudaKernel({ name: ctx.kernelName('conv_transpose'), node: ctx.node.name, op: ctx.node.op, bindings, body, grid: blocks, block: T })];
});
