// Normalizations as row kernels (./rows.ts), each one read pass for Welford statistics (count,
// mean, M2 in float, f64 in double) and one pass writing: LayerNormalization (with its Mean and
// InvStdDev results) and lathe.RMSNorm over the trailing dims from `axis`, InstanceNormalization
// over each [n, c] plane, GroupNormalization over each group of channels, MeanVariance-
// Normalization over any axes, BatchNormalization in training mode over each channel. Batch-
// Normalization in inference mode is elementwise (per-channel scale and shift).
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import { broadcastStrides } from '../../wgsl/index-helper.ts';
import type { CudaBinding, CudaKernel } from '../kernel.ts';
import { blocksFor, cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineCuda, defineOnnxCuda } from '../lowering.ts';
import type { Compute } from './rows.ts';
import { bindRead, bindWrite, computeOf, elemOf, fn, isFloatElem, literal, loadAs, normAxis, numElements, rowKernel, rsqrtOf, storeAs, welford } from './rows.ts';

function floatInput(ctx: CudaContext): { x: StaticTensor; c: Compute } {
  const x = ctx.input(0)!;
  const e = elemOf(ctx, x);
  if (!isFloatElem(e)) ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
  return { x, c: computeOf(e) };
}

/** `param[at]` of binding b, as a compute value. */
const ld = (b: CudaBinding, at: string, c: Compute) => loadAs(`${b.param}[${at}]`, b.elem, c);

/** LayerNormalization (rms = false) and lathe.RMSNorm (rms = true): rows are the dims from `axis` on. */
function trailingNorm(rms: boolean) {
  return (ctx: CudaContext): CudaKernel[] => {
    const { x, c } = floatInput(ctx);
    const r = x.shape.length;
    const axis = normAxis(ctx.int('axis', -1), r);
    const eps = literal(ctx.float('epsilon', 1e-5), c);
    const normShape = x.shape.slice(axis);
    const n = numElements(normShape);
    const outs = [0, 1, 2].map((i) => ctx.output(i)).filter((t) => t && numElements(t.shape) > 0);
    if (outs.length === 0) return [];
    if (n === 0) ctx.unsupported(`${ctx.node.op} over an empty normalized shape`);
    const scale = bindRead(ctx, 'scale', ctx.input(1)!);
    const biasT = rms ? undefined : ctx.input(2);
    const bias = biasT && bindRead(ctx, 'bias', biasT);
    const views = [broadcastStrides(ctx.input(1)!.shape, normShape), ...(biasT ? [broadcastStrides(biasT.shape, normShape)] : [])];
    const y = bindWrite(ctx, 'y', ctx.output(0)!);
    const meanT = rms ? undefined : ctx.output(1);
    const invT = rms ? undefined : ctx.output(2);
    const meanOut = meanT && bindWrite(ctx, 'mean_out', meanT);
    const invOut = invT && bindWrite(ctx, 'inv_out', invT);
    const yExpr = rms
      ? `v * inv * ${ld(scale, 'off1', c)}`
      : `(v - mean) * inv * ${ld(scale, 'off1', c)}${bias ? ` + ${ld(bias, 'off2', c)}` : ''}`;
    return rowKernel(ctx, {
      what: rms ? 'rmsnorm' : 'layernorm',
      x: bindRead(ctx, 'x', x),
      compute: c,
      shape: x.shape,
      reduced: normShape.map((_, i) => axis + i),
      elemViews: views,
      bindings: [scale, ...(bias ? [bias] : []), y, ...(meanOut ? [meanOut] : []), ...(invOut ? [invOut] : [])],
      reduction: rms ? { vars: [{ name: 'ss', type: c, init: literal(0, c) }], step: 'ss += v * v;', merge: 'ss += o_ss;' } : welford(c),
      rowLets: [`const ${c} inv = ${rsqrtOf(`${rms ? 'ss' : 'm2'} / ${literal(n, c)} + ${eps}`, c)};`],
      elemWrites: [`y[at] = ${storeAs(yExpr, y.elem)};`],
      rowWrites: [
        ...(meanOut ? [`mean_out[row] = ${storeAs('mean', meanOut.elem)};`] : []),
        ...(invOut ? [`inv_out[row] = ${storeAs('inv', invOut.elem)};`] : []),
      ],
    });
  };
}

defineOnnxCuda(['LayerNormalization'], trailingNorm(false));
defineCuda(LATHE_DOMAIN, 'RMSNorm', trailingNorm(true));

defineOnnxCuda(['InstanceNormalization'], (ctx) => {
  const { x, c } = floatInput(ctx);
  if (numElements(x.shape) === 0) return [];
  const r = x.shape.length;
  const channels = x.shape[1] ?? 1;
  const plane = numElements(x.shape.slice(2));
  const scale = bindRead(ctx, 'scale', ctx.input(1)!);
  const bias = bindRead(ctx, 'bias', ctx.input(2)!);
  const y = bindWrite(ctx, 'y', ctx.output(0)!);
  return rowKernel(ctx, {
    what: 'instancenorm',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: x.shape,
    reduced: Array.from({ length: r - 2 }, (_, i) => i + 2),
    bindings: [scale, bias, y],
    reduction: welford(c),
    rowLets: [
      `const unsigned ch = row % ${channels}u;`,
      `const ${c} g = ${ld(scale, 'ch', c)} * ${rsqrtOf(`m2 / ${literal(plane, c)} + ${literal(ctx.float('epsilon', 1e-5), c)}`, c)};`,
      `const ${c} sh = ${ld(bias, 'ch', c)};`,
    ],
    elemWrites: [`y[at] = ${storeAs('(v - mean) * g + sh', y.elem)};`],
  });
});

// GroupNormalization: X read as [N, G, C/G · spatial], each group one row. scale and bias are
// per group (opset 18) or per channel (opset 21); their length tells which, as in the interpreter.
defineOnnxCuda(['GroupNormalization'], (ctx) => {
  const { x, c } = floatInput(ctx);
  if (numElements(x.shape) === 0) return [];
  const [N, C] = [x.shape[0]!, x.shape[1] ?? 1];
  const G = ctx.int('num_groups');
  if (G < 1 || C % G !== 0) ctx.unsupported(`${C} channels do not split into ${G} groups`);
  const scaleT = ctx.input(1)!;
  const len = numElements(scaleT.shape);
  const perChannel = len === C;
  if (!perChannel && len !== G) ctx.unsupported(`scale has ${len} elements; expected ${C} (channels) or ${G} (groups)`);
  const P = numElements(x.shape.slice(2));
  const Cg = C / G;
  const span = Cg * P;
  const scale = bindRead(ctx, 'scale', scaleT);
  const bias = bindRead(ctx, 'bias', ctx.input(2)!);
  const y = bindWrite(ctx, 'y', ctx.output(0)!);
  const idx = perChannel ? 'ch' : 'grp';
  return rowKernel(ctx, {
    what: 'groupnorm',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: [N, G, span],
    reduced: [2],
    bindings: [scale, bias, y],
    reduction: welford(c),
    rowLets: [`const unsigned grp = row % ${G}u;`, `const ${c} inv = ${rsqrtOf(`m2 / ${literal(span, c)} + ${literal(ctx.float('epsilon', 1e-5), c)}`, c)};`],
    elemWrites: [
      ...(perChannel ? [`const unsigned ch = grp * ${Cg}u + k / ${P}u;`] : []),
      `y[at] = ${storeAs(`(v - mean) * (${ld(scale, idx, c)} * inv) + ${ld(bias, idx, c)}`, y.elem)};`,
    ],
  });
});

defineOnnxCuda(['MeanVarianceNormalization'], (ctx) => {
  const { x, c } = floatInput(ctx);
  if (numElements(x.shape) === 0) return [];
  const r = x.shape.length;
  const axes = [...new Set([...ctx.ints('axes', [0, 2, 3])].map((a) => normAxis(a, r)))];
  const n = numElements(axes.map((a) => x.shape[a]!));
  const y = bindWrite(ctx, 'y', ctx.output(0)!);
  return rowKernel(ctx, {
    what: 'mvn',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: x.shape,
    reduced: axes,
    bindings: [y],
    reduction: welford(c),
    // ONNX's function body: (X − E[X]) / (sqrt(Var[X]) + 1e-9).
    rowLets: [`const ${c} dd = ${fn('sqrt', c)}(m2 / ${literal(n, c)}) + ${literal(1e-9, c)};`],
    elemWrites: [`y[at] = ${storeAs('(v - mean) / dd', y.elem)};`],
  });
});

// BatchNormalization. Inference: y = x·k[c] + (bias[c] − mean[c]·k[c]), k = scale/√(var + ε),
// one thread per element. Training mode: batch statistics per channel (population variance) as a
// row kernel over [N, C, spatial] with the channel kept, and the running statistics blended with
// `momentum`.
defineOnnxCuda(['BatchNormalization'], (ctx) => {
  const { x, c } = floatInput(ctx);
  const total = numElements(x.shape);
  if (total === 0) return [];
  const [N, C] = [x.shape[0]!, x.shape[1] ?? 1];
  const P = numElements(x.shape.slice(2));
  const eps = literal(ctx.float('epsilon', 1e-5), c);
  const [scale, bias, mean, vari] = ['scale', 'bias', 'in_mean', 'in_var'].map((nm, i) => bindRead(ctx, nm, ctx.input(i + 1)!)) as [CudaBinding, CudaBinding, CudaBinding, CudaBinding];
  const y = bindWrite(ctx, 'y', ctx.output(0)!);
  const xb = bindRead(ctx, 'x', x);
  if (ctx.int('training_mode', 0) === 1) {
    const mom = ctx.float('momentum', 0.9);
    const outs = [1, 2].map((i) => ctx.output(i));
    const runMean = outs[0] && bindWrite(ctx, 'run_mean', outs[0]);
    const runVar = outs[1] && bindWrite(ctx, 'run_var', outs[1]);
    const blend = (b: CudaBinding, cur: string) => `${ld(b, 'row', c)} * ${literal(mom, c)} + ${cur} * ${literal(1 - mom, c)}`;
    return rowKernel(ctx, {
      what: 'batchnorm_train',
      x: xb,
      compute: c,
      shape: [N, C, P],
      reduced: [0, 2],
      bindings: [scale, bias, ...(runMean ? [mean] : []), ...(runVar ? [vari] : []), y, ...(runMean ? [runMean] : []), ...(runVar ? [runVar] : [])],
      reduction: welford(c),
      rowLets: [
        `const ${c} bvar = m2 / ${literal(N * P, c)};`,
        `const ${c} kk = ${ld(scale, 'row', c)} * ${rsqrtOf(`bvar + ${eps}`, c)};`,
        `const ${c} sh = ${ld(bias, 'row', c)} - mean * kk;`,
      ],
      elemWrites: [`y[at] = ${storeAs('v * kk + sh', y.elem)};`],
      rowWrites: [
        ...(runMean ? [`run_mean[row] = ${storeAs(blend(mean, 'mean'), runMean.elem)};`] : []),
        ...(runVar ? [`run_var[row] = ${storeAs(blend(vari, 'bvar'), runVar.elem)};`] : []),
      ],
    });
  }
  const threads = 256;
  return [
    cudaKernel({
      name: ctx.kernelName('batchnorm'),
      node: ctx.node.name,
      op: ctx.node.op,
      bindings: [xb, scale, bias, mean, vari, y],
      body: [
        `  const unsigned i = blockIdx.x * ${threads}u + threadIdx.x;`,
        `  if (i >= ${total}u) return;`,
        `  const unsigned ch = ${P === 1 ? 'i' : `(i / ${P}u)`} % ${C}u;`,
        `  const ${c} kk = ${ld(scale, 'ch', c)} * ${rsqrtOf(`${ld(vari, 'ch', c)} + ${eps}`, c)};`,
        `  y[i] = ${storeAs(`${ld(xb, 'i', c)} * kk + (${ld(bias, 'ch', c)} - ${ld(mean, 'ch', c)} * kk)`, y.elem)};`,
      ].join('\n'),
      grid: blocksFor(total, threads),
      block: threads,
    }),
  ];
});
