// The inputs a one-call run (runWgsl, runCudaCpu) compiles and runs for: the given ones, with
// those left out taking their ONNX initializer defaults, as in the interpreter.
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { fromConst } from '../../ir/interp/tensor.ts';

/** Every graph input: the given tensor, else the input's default; a UsageError where it has none. */
export function withInputDefaults(model: Model, inputs: readonly Tensor[]): Tensor[] {
  const defaults = new Map((model.graph.inputDefaults ?? []).map((c) => [c.name, c.tensor]));
  return model.graph.inputs.map((v, i) => {
    const given = inputs[i];
    if (given) return given;
    const d = defaults.get(v.name);
    if (!d) throw new LatheError('UsageError', `input '${v.name}' is not given`, { value: v.name });
    return fromConst(d);
  });
}
