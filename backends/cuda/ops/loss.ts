// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (= NLL of log_softmax over the class
// axis 1). Input [N, C, d1..dk], target [N, d1..dk], optional weight [C]. Each (n, d) element's
// loss is −weight[t] · lp[n, t, d] (0, adding no weight, where t is ignore_index; a target out of
// [0, C) — an error in the interpreter — counts as ignored rather than reading out of bounds).
// `none` writes the losses; `sum` / `mean` write them (and the weights) to scratch and one block
// sums them (`mean` divides by the summed weights, as ONNX and the interpreter do).
// NLL: one thread per (n, d). SoftmaxCrossEntropyLoss: the row kernel (./rows.ts) over axis 1
// computes the online (max, Σexp) pair per (n, d), writes log_prob when it is wanted, and its
// row leader computes the loss. Floats compute in float (f64 in double).
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { cudaKernel } from '../kernel.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import type { Compute } from './rows.ts';
import { bindRead, bindWrite, computeOf, elemOf, fn, isFloatElem, literal, loadAs, numElements, onlineSoftmax, rowKernel, storeAs } from './rows.ts';

interface LossPlan {
  readonly N: number;
  readonly C: number;
  readonly D: number;
  readonly c: Compute;
  readonly xElem: CudaElem;
  readonly reduction: 'none' | 'sum' | 'mean';
  readonly target: CudaBinding;
  readonly weight?: CudaBinding;
  /** Bindings the per-element losses go to: y ('none'), else the scratch sums' inputs. */
  readonly sinks: CudaBinding[];
  /** Statements storing `loss` and `wt` for element `i`. */
  readonly sink: (i: string) => string[];
  /** The sum/mean kernel (none for 'none'). */
  readonly finish: CudaKernel[];
}

function plan(ctx: CudaContext): LossPlan {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  if (x.shape.length < 2) return ctx.unsupported(`input must be [N, C, ...], got [${x.shape.join(', ')}]`);
  const xElem = elemOf(ctx, x);
  if (!isFloatElem(xElem)) return ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
  const [N, C] = x.shape as [number, number];
  const D = numElements(x.shape.slice(2));
  const t = ctx.input(1)!;
  const tShape = [N, ...x.shape.slice(2)];
  if (t.shape.join() !== tShape.join()) return ctx.unsupported(`target is [${t.shape.join(', ')}], expected [${tShape.join(', ')}]`);
  const tElem = elemOf(ctx, t);
  if (isFloatElem(tElem) || tElem === 'bool') return ctx.unsupported(`target is ${t.dtype}; expected an integer tensor`);
  const w = ctx.input(2);
  if (w && (w.dtype !== x.dtype || numElements(w.shape) !== C)) return ctx.unsupported(`weight is ${w.dtype} [${w.shape.join(', ')}], expected ${x.dtype} [${C}]`);
  const reduction = ctx.string('reduction', 'mean');
  if (reduction !== 'none' && reduction !== 'sum' && reduction !== 'mean') return ctx.unsupported(`unknown reduction '${reduction}'`);
  const c = computeOf(xElem);
  const total = N * D;
  const yb = bindWrite(ctx, 'y', y);
  if (reduction === 'none') {
    return { N, C, D, c, xElem, reduction, target: bindRead(ctx, 'tg', t), ...(w ? { weight: bindRead(ctx, 'wgt', w) } : {}), sinks: [yb], sink: (i) => [`y[${i}] = ${storeAs('loss', yb.elem)};`], finish: [] };
  }
  const scratchElem: CudaElem = c === 'double' ? 'f64' : 'f32';
  const bytes = Math.max(8, total * (c === 'double' ? 8 : 4));
  const mean = reduction === 'mean';
  const lossName = `${ctx.node.name}::losses`;
  const wName = `${ctx.node.name}::weights`;
  const sinks: CudaBinding[] = [
    { value: lossName, access: 'read_write', elem: scratchElem, param: 'losses', scratchBytes: bytes },
    ...(mean ? [{ value: wName, access: 'read_write' as const, elem: scratchElem, param: 'wts', scratchBytes: bytes }] : []),
  ];
  // One block sums the losses (and weights): every thread strides, then a tree in __shared__.
  let T = 32;
  while (T < total && T < 256) T *= 2;
  const zero = literal(0, c);
  const body =
    total === 0
      ? [`  if (threadIdx.x == 0u) y[0] = ${storeAs(mean ? `${zero} / ${zero}` : zero, yb.elem)};`]
      : [
          `  ${c} ls = ${zero}${mean ? `, ws = ${zero}` : ''};`,
          `  for (unsigned i = threadIdx.x; i < ${total}u; i += ${T}u) {`,
          '    ls += losses[i];',
          ...(mean ? ['    ws += wts[i];'] : []),
          '  }',
          `  __shared__ ${c} sh_l[${T}];`,
          ...(mean ? [`  __shared__ ${c} sh_w[${T}];`] : []),
          '  sh_l[threadIdx.x] = ls;',
          ...(mean ? ['  sh_w[threadIdx.x] = ws;'] : []),
          '  __syncthreads();',
          `  for (unsigned s = ${T / 2}u; s > 0u; s >>= 1) {`,
          '    if (threadIdx.x < s) {',
          '      sh_l[threadIdx.x] += sh_l[threadIdx.x + s];',
          ...(mean ? ['      sh_w[threadIdx.x] += sh_w[threadIdx.x + s];'] : []),
          '    }',
          '    __syncthreads();',
          '  }',
          `  if (threadIdx.x == 0u) y[0] = ${storeAs(mean ? 'sh_l[0] / sh_w[0]' : 'sh_l[0]', yb.elem)};`,
        ];
  const finish = cudaKernel({
    name: ctx.kernelName(`loss_${reduction}`),
    node: ctx.node.name,
    op: ctx.node.op,
    // Declared (scratchBytes) by the per-element kernel; bound here by name.
    bindings: [...(total === 0 ? [] : sinks.map((b): CudaBinding => ({ value: b.value, access: 'read', elem: b.elem, param: b.param }))), yb],
    body: body.join('\n'),
    grid: 1,
    block: T,
  });
  return {
    N, C, D, c, xElem, reduction,
    target: bindRead(ctx, 'tg', t),
    ...(w ? { weight: bindRead(ctx, 'wgt', w) } : {}),
    sinks,
    sink: (i) => [`losses[${i}] = loss;`, ...(mean ? [`wts[${i}] = wt;`] : [])],
    finish: [finish],
  };
}

/**
 * Statements computing `loss` and `wt` for target element `i`, the log-probability of class `t`
 * given by `lpAt(t)` (t an unsigned class index in range).
 */
function lossLines(ctx: CudaContext, p: LossPlan, i: string, lpAt: (t: string) => string): string[] {
  const ignore = ctx.attr('ignore_index') ? ctx.int('ignore_index') : undefined;
  const c = p.c;
  const ok = [...(ignore === undefined ? [] : [`t != ${ignore}ll`]), 't >= 0ll', `t < ${p.C}ll`].join(' && ');
  return [
    `const long long t = (long long)tg[${i}];`,
    `${c} loss = ${literal(0, c)}, wt = ${literal(0, c)};`,
    `if (${ok}) {`,
    `  wt = ${p.weight ? loadAs('wgt[(unsigned)t]', p.weight.elem, c) : literal(1, c)};`,
    `  loss = -(${lpAt('(unsigned)t')}) * wt;`,
    '}',
  ];
}

defineOnnxCuda(['NegativeLogLikelihoodLoss'], (ctx) => {
  const x = ctx.input(0)!;
  const p = plan(ctx);
  const total = p.N * p.D;
  if (total === 0) return p.finish;
  const body = [
    `const unsigned n = flat / ${p.D}u;`,
    `const unsigned d = flat % ${p.D}u;`,
    ...lossLines(ctx, p, 'flat', (t) => loadAs(`x[(n * ${p.C}u + ${t}) * ${p.D}u + d]`, p.xElem, p.c)),
    ...p.sink('flat'),
  ];
  const bindings = [bindRead(ctx, 'x', x), p.target, ...(p.weight ? [p.weight] : []), ...p.sinks];
  const k = cudaKernel({
    name: ctx.kernelName('nll'),
    node: ctx.node.name,
    op: ctx.node.op,
    bindings,
    body: ['  const unsigned flat = blockIdx.x * 256u + threadIdx.x;', `  if (flat >= ${total}u) return;`, ...body.map((l) => `  ${l}`)].join('\n'),
    grid: Math.ceil(total / 256),
    block: 256,
  });
  return [k, ...p.finish];
});

defineOnnxCuda(['SoftmaxCrossEntropyLoss'], (ctx) => {
  const x = ctx.input(0)!;
  const p = plan(ctx);
  const logProb = ctx.output(1);
  if (p.N * p.D === 0) return p.finish;
  if (p.C === 0) return ctx.unsupported('SoftmaxCrossEntropyLoss over 0 classes');
  const c = p.c;
  // Per row (n, d): l = m + log Σ exp(x − m); log_prob = x − l, as the interpreter computes it.
  const rows = rowKernel(ctx, {
    what: 'softmax_xent',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: x.shape,
    reduced: [1],
    bindings: [p.target, ...(p.weight ? [p.weight] : []), ...(logProb ? [bindWrite(ctx, 'lp', logProb)] : []), ...p.sinks],
    reduction: onlineSoftmax(c),
    rowLets: [`const ${c} l = m + ${fn('log', c)}(s);`],
    ...(logProb ? { elemWrites: [`lp[at] = ${storeAs('v - l', elemOf(ctx, logProb))};`] } : {}),
    // `row` is n·D + d (the kept dims n, d1..dk in order); `base` is the row's class-0 element.
    rowWrites: [...lossLines(ctx, p, 'row', (t) => `${loadAs(`x[base + ${t} * ${p.D}u]`, p.xElem, c)} - l`), ...p.sink('row')],
  });
  return [...rows, ...p.finish];
});
