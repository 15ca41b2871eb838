// A small model built in code for the compile tests: symbolic batch, an i64 input, f32 and bool
// weights, broadcasting, and an output that is an alias (a Reshape) of another.
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';

export const W = [0.5, -1, 2, 0.25, -0.75, 1.5];
export const B = [0.1, 0.2, -0.3, 0.4, -0.5, 0.6];
export const MASK = [1, 0, 1, 1, 0, 1];

/** y = Where(mask, s, -s) with s = Sigmoid(x·w + b) + f32(ids); flat = Reshape(y, [-1]). */
export function smallModel(): Model {
  const b = new GraphBuilder('small');
  const x = b.input('x', tensor('f32', ['batch', 6]));
  const ids = b.input('ids', tensor('i64', ['batch', 6]));
  const w = b.constant('w', constTensor('f32', [6], W));
  const bias = b.constant('b', constTensor('f32', [6], B));
  const mask = b.constant('mask', constTensor('bool', [6], MASK));
  const s = b.op('Add', [b.op('Sigmoid', [b.op('Add', [b.op('Mul', [x, w]), bias])]), b.op('Cast', [ids], { to: 1 })]);
  const y = b.op('Where', [mask, s, b.op('Neg', [s])], {}, { name: 'select' });
  const flat = b.op('Reshape', [y, b.constant('flat_shape', constTensor('i64', [1], [-1]))]);
  return b.returns(y, flat).model();
}
