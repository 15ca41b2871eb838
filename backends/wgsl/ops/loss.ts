// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (= NLL of LogSoftmax over the class axis
// 1). Input [N, C, d1..dk], target [N, d1..dk] (i64 stored as i32), optional weight [C].
// One kernel writes each element's loss −weight[t]·input[n, t, d] (0, with weight 0, where t is
// ignore_index); for `sum`/`mean` the losses and applied weights go to scratch buffers and one
// workgroup sums them (`mean` divides by the summed weights, as ONNX and the interpreter do).
// SoftmaxCrossEntropyLoss first runs the row template's log-softmax over axis 1, into log_prob
// when that result is wanted, else into a scratch buffer. Computed in f32 (f16 storage too).
import { numElements } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import { elemOf, loadAs, readVar, storeAs, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { u } from './kernel-util.ts';
import { FLOAT_SPECIALS, NEG_INF, rowKernel, workgroupReduce } from './rows.ts';

const WG = 64;

/**
 * The NLL kernels over log-probabilities `lp` (a bound variable named `x` of shape [N, C, ...]):
 * per element loss (and weight), then for sum/mean a one-workgroup reduction into result 0.
 */
function nllKernels(ctx: LowerContext, lp: BoundVar, shape: readonly number[]): Kernel[] {
  if (shape.length < 2) ctx.unsupported(`input must be [N, C, ...], got [${shape.join(', ')}]`);
  const [N, C] = shape as [number, number];
  const D = numElements(shape.slice(2));
  const total = N * D;
  const target = ctx.input(1)!;
  if (target.shape.join() !== [N, ...shape.slice(2)].join()) ctx.unsupported(`target is [${target.shape.join(', ')}], expected [${[N, ...shape.slice(2)].join(', ')}]`);
  const tElem = elemOf(ctx, target);
  if (tElem !== 'i32' && tElem !== 'u32') ctx.unsupported(`target is ${target.dtype}; expected an integer tensor`);
  const weight = ctx.input(2);
  const y = ctx.output(0)!;
  if (ctypeOf(y.dtype) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${y.dtype}`);
  const reduction = ctx.string('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) ctx.unsupported(`unknown reduction '${reduction}'`);
  const ignore = ctx.attr('ignore_index') ? ctx.int('ignore_index') : undefined;

  const yv = writeVar(ctx, 'y', y);
  const tv = readVar(ctx, 'tg', target);
  const wv = weight ? readVar(ctx, 'w', weight) : undefined;
  const kernels: Kernel[] = [];
  const name = ctx.kernelName('');
  const lossScratch: BoundVar = { name: 'losses', binding: { value: `${name}losses`, access: 'read_write', elem: 'f32', scratchBytes: Math.max(4, total * 4) } };
  const wScratch: BoundVar = { name: 'wts', binding: { value: `${name}weights`, access: 'read_write', elem: 'f32', scratchBytes: Math.max(4, total * 4) } };

  const vars: BoundVar[] = [lp, tv, ...(wv ? [wv] : []), ...(reduction === 'none' ? [yv] : [lossScratch, wScratch])];
  const body = [
    `  let i = ${threadIndex(WG)};`,
    `  if (i >= ${u(total)}) { return; }`,
    `  let n = i / ${u(D)};`,
    `  let d = i % ${u(D)};`,
    `  let t = i32(tg[i]);`,
    '  var loss = 0.0;',
    '  var wt = 0.0;',
    `  if (${ignore === undefined ? '' : `t != (${ignore | 0}i) && `}t >= 0i && t < ${C}i) {`,
    `    wt = ${wv ? loadAs('w[u32(t)]', wv.binding.elem, 'f32') : '1.0'};`,
    `    loss = -${loadAs(`x[(n * ${u(C)} + u32(t)) * ${u(D)} + d]`, lp.binding.elem, 'f32')} * wt;`,
    '  }',
    reduction === 'none' ? `  y[i] = ${storeAs('loss', yv.binding.elem)};` : '  losses[i] = loss;\n  wts[i] = wt;',
  ];
  if (total > 0 || reduction !== 'none') {
    kernels.push(
      buildKernel({
        name: ctx.kernelName('nll'),
        node: ctx.node.name,
        op: ctx.node.op,
        key: `loss/nll/${reduction}`,
        vars,
        uniforms: [],
        workgroupSize: WG,
        body: body.join('\n'),
        dispatch: elementDispatch(total, WG, ctx.caps),
      }),
    );
  }
  if (reduction === 'none') return kernels;

  let wg = 32;
  const max = Math.min(256, ctx.caps.maxWorkgroupInvocations || 256);
  while (wg < total && wg < max) wg *= 2;
  const red = [
    '  var ls = 0.0;',
    '  var ws = 0.0;',
    `  for (var k = lid.x; k < ${u(total)}; k += ${u(wg)}) {`,
    '    ls += losses[k];',
    '    ws += wts[k];',
    '  }',
    workgroupReduce('ls', 'lsum', 'red', wg, (a, b) => `(${a} + ${b})`),
    workgroupReduce('ws', 'wsum', 'red', wg, (a, b) => `(${a} + ${b})`),
    `  if (lid.x == 0u) { y[0] = ${storeAs(reduction === 'mean' ? 'lsum / wsum' : 'lsum', yv.binding.elem)}; }`,
  ];
  kernels.push(
    buildKernel({
      name: ctx.kernelName(`nll_${reduction}`),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `loss/nll_${reduction}`,
      vars: [
        // Declared (scratchBytes) by the first kernel only: later uses bind it by name.
        { name: 'losses', binding: { value: lossScratch.binding.value, access: 'read', elem: 'f32' } },
        { name: 'wts', binding: { value: wScratch.binding.value, access: 'read', elem: 'f32' } },
        yv,
      ],
      uniforms: [],
      workgroupSize: wg,
      helpers: [`var<workgroup> red: array<f32, ${wg}>;`],
      body: red.join('\n'),
      dispatch: [1, 1, 1],
    }),
  );
  return kernels;
}

function floatInput(ctx: LowerContext): StaticTensor {
  const x = ctx.input(0)!;
  if (ctypeOf(x.dtype) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
  return x;
}

defineOnnxWgsl(['NegativeLogLikelihoodLoss'], (ctx) => {
  const x = floatInput(ctx);
  return nllKernels(ctx, readVar(ctx, 'x', x), x.shape);
});

defineOnnxWgsl(['SoftmaxCrossEntropyLoss'], (ctx) => {
  const x = floatInput(ctx);
  if (x.shape.length < 2) ctx.unsupported(`scores must be [N, C, ...], got [${x.shape.join(', ')}]`);
  const logProb = ctx.output(1);
  // log_prob goes to result 1 when it is wanted, else to a scratch buffer the softmax kernel
  // declares (scratchBytes) and the NLL kernel reads by name.
  const lp: BoundVar = logProb ? readVar(ctx, 'x', logProb) : { name: 'x', binding: { value: ctx.kernelName('log_prob'), access: 'read', elem: 'f32' } };
  const out: BoundVar = {
    name: 'y',
    binding: { ...lp.binding, access: 'read_write', ...(logProb ? {} : { scratchBytes: Math.max(4, numElements(x.shape) * 4) }) },
  };
  const softmax =
    numElements(x.shape) === 0
      ? []
      : rowKernel(ctx, {
          what: 'logsoftmax',
          reduced: [1],
          vars: [out],
          phases: [
            { name: 'm', init: NEG_INF, map: (v) => v, combine: (a, b) => `max(${a}, ${b})`, subgroup: 'Max' },
            { name: 's', init: '0.0', map: (v) => `exp(${v} - m)`, combine: (a, b) => `(${a} + ${b})`, subgroup: 'Add' },
          ],
          rowLets: ['let ls = log(s);'],
          elemWrites: (store) => [`y[at] = ${store('v - m - ls', 'y')};`],
          helpers: [FLOAT_SPECIALS],
        });
  return [...softmax, ...nllKernels(ctx, lp, x.shape)];
});
