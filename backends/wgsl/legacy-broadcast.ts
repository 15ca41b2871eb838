// Before opset 7, two ops broadcast differently from numpy: PRelu applied a 1-D slope of C values
// per channel (axis 1), and binary ops with broadcast=1 aligned B at `axis` rather than at the
// end. The WGSL kernels broadcast numpy-style only, so such operands are first given explicit
// trailing 1-dims with an Unsqueeze (an alias: no data moves). The interpreter applies the same
// rules in ir/interp/ops/binary.ts; without this the kernels would give a wrong answer.
import type { Model, Node, Value } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import type { TensorType } from '../../ir/types.ts';
import { tensor } from '../../ir/types.ts';

const LEGACY_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less']);

/** The model with old-opset broadcasts made numpy-style; the same object when there are none. */
export function explicitLegacyBroadcast(model: Model): Model {
  if ((model.opsets[ONNX_DOMAIN] ?? 1) >= 7) return model;
  const g = model.graph;
  const types = new Map<string, TensorType>();
  for (const v of g.inputs) if (v.type.kind === 'tensor') types.set(v.name, v.type);
  for (const c of g.constants) types.set(c.name, tensor(c.tensor.dtype, c.tensor.shape));
  for (const n of g.nodes) for (const o of n.outputs) if (o?.type.kind === 'tensor') types.set(o.name, o.type);
  const used = new Set(types.keys());
  const nodes: Node[] = [];
  let changed = false;
  for (const n of g.nodes) {
    const trailing = n.domain === ONNX_DOMAIN || n.domain === '' ? trailingOnes(n, types) : 0;
    if (trailing === 0) {
      nodes.push(n);
      continue;
    }
    const b = types.get(n.inputs[1]!)!;
    const rank = b.shape!.length;
    let name = `${n.inputs[1]}_bcast`;
    while (used.has(name)) name += '_';
    used.add(name);
    const out: Value = { name, type: tensor(b.dtype, [...b.shape!, ...new Array<number>(trailing).fill(1)]) };
    const axes = Array.from({ length: trailing }, (_, i) => rank + i);
    nodes.push({ name: `${n.name}/unsqueeze`, op: 'Unsqueeze', domain: ONNX_DOMAIN, inputs: [n.inputs[1]!], outputs: [out], attrs: { axes: { kind: 'ints', value: axes } } });
    nodes.push({ ...n, inputs: [n.inputs[0]!, name, ...n.inputs.slice(2)] });
    changed = true;
  }
  return changed ? { ...model, graph: { ...g, nodes } } : model;
}

/** How many trailing 1-dims operand 1 of `n` needs to broadcast numpy-style (0: none). */
function trailingOnes(n: Node, types: ReadonlyMap<string, TensorType>): number {
  const a = n.inputs[0] ? types.get(n.inputs[0]) : undefined;
  const b = n.inputs[1] ? types.get(n.inputs[1]) : undefined;
  if (!a?.shape || !b?.shape) return 0;
  if (n.op === 'PRelu') {
    const perChannel = b.shape.length === 1 && a.shape.length > 2 && b.shape[0] === a.shape[1] && b.shape[0] !== 1;
    return perChannel ? a.shape.length - 2 : 0;
  }
  if (!LEGACY_BINARY.has(n.op)) return 0;
  const broadcast = n.attrs.broadcast;
  const axis = n.attrs.axis;
  if (broadcast?.kind !== 'int' || broadcast.value !== 1 || axis?.kind !== 'int') return 0;
  const start = axis.value < 0 ? axis.value + a.shape.length : axis.value;
  return Math.max(0, a.shape.length - start - b.shape.length);
}
