// Softmax and LogSoftmax, one kernel per row (./rows.ts): one read pass for the online (max,
// Σ exp(x − max)) pair, one pass writing every element. Before opset 13 a row is all dims from
// `axis` (default 1) on, the input coerced to 2-D; from 13 the one `axis` (default −1), read in
// place at its stride.
import { softmaxAxes } from '../../shared/softmax-axes.ts';
import type { CudaKernel } from '../kernel.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { bindRead, bindWrite, computeOf, elemOf, fn, isFloatElem, literal, numElements, onlineSoftmax, rowKernel, storeAs } from './rows.ts';

function softmaxLowering(log: boolean) {
  return (ctx: CudaContext): CudaKernel[] => {
    const x = ctx.input(0)!;
    const y = ctx.output(0)!;
    const r = x.shape.length;
    const e = elemOf(ctx, x);
    if (!isFloatElem(e)) ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
    if (numElements(x.shape) === 0) return [];
    const c = computeOf(e);
    const reduced = softmaxAxes(ctx, r);
    return rowKernel(ctx, {
      what: log ? 'logsoftmax' : 'softmax',
      x: bindRead(ctx, 'x', x),
      compute: c,
      shape: x.shape,
      reduced,
      bindings: [bindWrite(ctx, 'y', y)],
      reduction: onlineSoftmax(c),
      rowLets: [log ? `const ${c} ls = ${fn('log', c)}(s);` : `const ${c} inv = ${literal(1, c)} / s;`],
      elemWrites: [`y[at] = ${storeAs(log ? 'v - m - ls' : `${fn('exp', c)}(v - m) * inv`, elemOf(ctx, y))};`],
    });
  };
}

defineOnnxCuda(['Softmax'], softmaxLowering(false));
defineOnnxCuda(['LogSoftmax'], softmaxLowering(true));
