// Running another op's evaluator on substitute operands, with this node's attributes: the
// integer Conv ops reuse Conv on exact f64 data, ConcatFromSequence reuses Concat.
import type { EvalContext } from '../registry.ts';
import { evalError, lookupEval } from '../registry.ts';
import type { RuntimeValue, Tensor } from '../tensor.ts';
import { describe, isTensor } from '../tensor.ts';

/** Run the evaluator of ONNX op `op` as if this node had `inputs` (attributes stay this node's). */
export function evalAs(ctx: EvalContext, op: string, inputs: readonly (RuntimeValue | undefined)[]): readonly (RuntimeValue | undefined)[] {
  const fn = lookupEval('ai.onnx', op);
  if (!fn) throw evalError(`needs the ${op} evaluator, which is not registered`);
  const value = (i: number): RuntimeValue => {
    const v = inputs[i];
    if (v === undefined) throw evalError(`operand ${i} is required but omitted`);
    return v;
  };
  const tensor = (i: number): Tensor => {
    const v = value(i);
    if (!isTensor(v)) throw evalError(`operand ${i} must be a tensor, got ${describe(v)}`);
    return v;
  };
  return fn({
    ...ctx,
    inputs,
    numInputs: inputs.length,
    has: (i) => inputs[i] !== undefined,
    value,
    tensor,
    optTensor: (i) => (inputs[i] === undefined ? undefined : tensor(i)),
  });
}
