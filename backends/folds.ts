// Results every backend knows when compiling, once shapes are static: a Constant node's value,
// Shape and Size. Each backend registers these for its registry (no kernel runs; the program
// uploads the result like a weight).
import { LatheError } from '../ir/errors.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { constTensor } from '../ir/tensor-data.ts';
import { numElements } from '../ir/types.ts';
import type { CoreContext, Folded } from './lower-core.ts';

export function foldConstant(ctx: CoreContext<unknown>): Folded {
  const out = ctx.output(0);
  if (!out) return ctx.unsupported('Constant without a result');
  return { folded: [{ output: 0, tensor: constantValue(ctx, out.dtype, out.shape) }] };
}

export function foldShape(ctx: CoreContext<unknown>): Folded {
  const x = ctx.input(0)!;
  const r = x.shape.length;
  const clamp = (v: number) => (v < 0 ? Math.max(0, v + r) : Math.min(v, r));
  const start = clamp(ctx.int('start', 0));
  const end = ctx.attr('end') ? clamp(ctx.int('end')) : r;
  const dims = x.shape.slice(start, Math.max(start, end));
  return { folded: [{ output: 0, tensor: constTensor('i64', [dims.length], dims) }] };
}

export function foldSize(ctx: CoreContext<unknown>): Folded {
  return { folded: [{ output: 0, tensor: constTensor('i64', [], [numElements(ctx.input(0)!.shape)]) }] };
}

function constantValue(ctx: CoreContext<unknown>, dtype: ConstTensor['dtype'], shape: readonly number[]): ConstTensor {
  const a = ctx.attr('value') ?? ctx.attr('value_float') ?? ctx.attr('value_floats') ?? ctx.attr('value_int') ?? ctx.attr('value_ints');
  if (!a) return ctx.unsupported(`Constant with attributes ${Object.keys(ctx.node.attrs).join(', ') || '(none)'}`);
  switch (a.kind) {
    case 'tensor': return a.value;
    case 'float': return constTensor('f32', [], [a.value]);
    case 'floats': return constTensor('f32', [a.value.length], a.value);
    case 'int': return constTensor('i64', [], [a.value]);
    case 'ints': return constTensor('i64', [a.value.length], a.value);
    default:
      throw new LatheError('UnsupportedType', `Constant ${dtype}[${shape.join(', ')}] from a ${a.kind} attribute`);
  }
}
