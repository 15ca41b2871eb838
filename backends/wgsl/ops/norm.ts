// Normalizations as row kernels (./rows.ts): LayerNormalization and RMSNorm over the trailing
// dims from `axis`, InstanceNormalization over each [n, c] plane, MeanVarianceNormalization over
// any axes; each one kernel (mean, then variance about it, then the writes). BatchNormalization
// in inference mode is elementwise (per-channel scale and shift).
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import { broadcastStrides, numElements } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl, defineWgsl } from '../lowering.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import type { BoundVar } from '../template.ts';
import { loadAs, normAxis, readVar, storeAs, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { rowKernel } from './rows.ts';

const add = (a: string, b: string) => `(${a} + ${b})`;
const MEAN = { name: 'sum', init: '0.0', map: (v: string) => v, combine: add, after: 'let mean = sum / f32(u.n);', subgroup: 'Add' as const };
const VAR = { name: 'sq', init: '0.0', map: (v: string) => `(${v} - mean) * (${v} - mean)`, combine: add, subgroup: 'Add' as const };

function floatOnly(ctx: LowerContext) {
  const x = ctx.input(0)!;
  if (ctypeOf(x.dtype) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
  return x;
}

/** LayerNormalization (rms = false) and lathe.RMSNorm (rms = true). */
function trailingNorm(rms: boolean) {
  return (ctx: LowerContext): Kernel[] => {
    const x = floatOnly(ctx);
    const r = x.shape.length;
    const axis = normAxis(ctx.int('axis', -1), r);
    const eps = ctx.float('epsilon', 1e-5);
    const normShape = x.shape.slice(axis);
    const reduced = normShape.map((_, i) => axis + i);
    const scale = ctx.input(1)!;
    const bias = rms ? undefined : ctx.input(2);
    const views = [broadcastStrides(scale.shape, normShape), ...(bias ? [broadcastStrides(bias.shape, normShape)] : [])];
    const vars: BoundVar[] = [readVar(ctx, 'scale', scale), ...(bias ? [readVar(ctx, 'bias', bias)] : []), writeVar(ctx, 'y', ctx.output(0)!)];
    const mean = rms ? undefined : ctx.output(1);
    const inv = rms ? undefined : ctx.output(2);
    if (mean) vars.push(writeVar(ctx, 'mean_out', mean));
    if (inv) vars.push(writeVar(ctx, 'inv_out', inv));
    const ld = (name: string, at: string) => loadAs(`${name}[${at}]`, vars.find((v) => v.name === name)!.binding.elem, 'f32');
    const yExpr = rms
      ? `v * inv * ${ld('scale', 'rd_off1(k)')}`
      : `(v - mean) * inv * ${ld('scale', 'rd_off1(k)')}${bias ? ` + ${ld('bias', 'rd_off2(k)')}` : ''}`;
    return rowKernel(ctx, {
      what: rms ? 'rmsnorm' : 'layernorm',
      reduced,
      elemViews: views,
      vars,
      uniforms: [{ name: 'eps', type: 'f32', value: eps }],
      phases: rms ? [{ name: 'ms', init: '0.0', map: (v) => `(${v} * ${v})`, combine: add, subgroup: 'Add' }] : [MEAN, VAR],
      rowLets: rms ? ['let inv = 1.0 / sqrt(ms / f32(u.n) + u.eps);'] : ['let inv = 1.0 / sqrt(sq / f32(u.n) + u.eps);'],
      elemWrites: (store) => [`y[at] = ${store(yExpr, 'y')};`],
      rowWrites: (store) => [...(mean ? [`mean_out[row] = ${store('mean', 'mean_out')};`] : []), ...(inv ? [`inv_out[row] = ${store('inv', 'inv_out')};`] : [])],
    });
  };
}

defineOnnxWgsl(['LayerNormalization'], trailingNorm(false));
defineWgsl(LATHE_DOMAIN, 'RMSNorm', trailingNorm(true));

defineOnnxWgsl(['InstanceNormalization'], (ctx) => {
  const x = floatOnly(ctx);
  const r = x.shape.length;
  const reduced = Array.from({ length: r - 2 }, (_, i) => i + 2);
  const vars = [readVar(ctx, 'scale', ctx.input(1)!), readVar(ctx, 'bias', ctx.input(2)!), writeVar(ctx, 'y', ctx.output(0)!)];
  return rowKernel(ctx, {
    what: 'instancenorm',
    reduced,
    vars,
    uniforms: [{ name: 'eps', type: 'f32', value: ctx.float('epsilon', 1e-5) }, { name: 'channels', type: 'u32', value: x.shape[1] ?? 1 }],
    phases: [MEAN, VAR],
    rowLets: ['let c = row % u.channels;', `let g = ${loadAs('scale[c]', vars[0]!.binding.elem, 'f32')} / sqrt(sq / f32(u.n) + u.eps);`, `let b = ${loadAs('bias[c]', vars[1]!.binding.elem, 'f32')};`],
    elemWrites: (store) => [`y[at] = ${store('(v - mean) * g + b', 'y')};`],
  });
});

defineOnnxWgsl(['MeanVarianceNormalization'], (ctx) => {
  const x = floatOnly(ctx);
  const r = x.shape.length;
  const axes = [...ctx.ints('axes', [0, 2, 3])].map((a) => normAxis(a, r));
  return rowKernel(ctx, {
    what: 'mvn',
    reduced: axes,
    vars: [writeVar(ctx, 'y', ctx.output(0)!)],
    phases: [MEAN, VAR],
    // ONNX's function body: (X − E[X]) / (sqrt(Var[X]) + 1e-9).
    rowLets: ['let d = sqrt(sq / f32(u.n)) + 1e-9;'],
    elemWrites: (store) => [`y[at] = ${store('(v - mean) / d', 'y')};`],
  });
});

// BatchNormalization, inference: y = x·k[c] + (bias[c] − mean[c]·k[c]), k = scale/√(var + ε).
defineOnnxWgsl(['BatchNormalization'], (ctx) => {
  const x = floatOnly(ctx);
  if (ctx.int('training_mode', 0) === 1) ctx.unsupported('BatchNormalization with training_mode=1 (batch statistics) has no WGSL lowering');
  const n = numElements(x.shape);
  if (n === 0) return [];
  const y = ctx.output(0)!;
  const names = ['scale', 'bias', 'mean', 'variance'];
  const vars: BoundVar[] = [readVar(ctx, 'x', x), ...names.map((nm, i) => readVar(ctx, nm, ctx.input(i + 1)!)), writeVar(ctx, 'y', y)];
  const ld = (i: number, at: string) => loadAs(`${vars[i]!.name}[${at}]`, vars[i]!.binding.elem, 'f32');
  const plane = numElements(x.shape.slice(2));
  const wg = 64;
  return [
    buildKernel({
      name: ctx.kernelName('batchnorm'),
      node: ctx.node.name,
      op: ctx.node.op,
      key: 'batchnorm',
      vars,
      uniforms: [
        { name: 'n', type: 'u32', value: n },
        { name: 'plane', type: 'u32', value: plane },
        { name: 'channels', type: 'u32', value: x.shape[1] ?? 1 },
        { name: 'eps', type: 'f32', value: ctx.float('epsilon', 1e-5) },
      ],
      workgroupSize: wg,
      body: [
        `  let i = ${threadIndex(wg)};`,
        '  if (i >= u.n) { return; }',
        '  let c = (i / u.plane) % u.channels;',
        `  let k = ${ld(1, 'c')} / sqrt(${ld(4, 'c')} + u.eps);`,
        `  y[i] = ${storeAs(`${ld(0, 'i')} * k + (${ld(2, 'c')} - ${ld(3, 'c')} * k)`, vars[5]!.binding.elem)};`,
      ].join('\n'),
      dispatch: elementDispatch(n, wg, ctx.caps),
    }),
  ];
});

