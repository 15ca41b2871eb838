// The lowerings that need no real kernel: results that are an operand's bytes seen with another
// shape (Identity, Reshape, Flatten, Squeeze, Unsqueeze → aliases) and Constant (folded: uploaded
// like a weight), Shape and Size (known once shapes are static). Plus `plainAddKernel`, one plain add of two same-shaped f32 tensors, which
// proves the compile → plan → run path end to end independently of the kernel families;
// ops/index.ts registers it for onnx.Add only when the elementwise family has not.
import { ONNX_DOMAIN } from '../../../ir/graph.ts';
import { numElements } from '../../../ir/types.ts';
import { foldConstant, foldShape, foldSize } from '../../folds.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl, defineWgslFold, lookupWgsl } from '../lowering.ts';

defineOnnxWgsl(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'], () => ({ alias: [{ output: 0, input: 0 }] }));

defineWgslFold(ONNX_DOMAIN, 'Constant', foldConstant);
// Shapes are static once the model is specialized: Shape and Size are known when compiling.
defineWgslFold(ONNX_DOMAIN, 'Shape', foldShape);
defineWgslFold(ONNX_DOMAIN, 'Size', foldSize);

/** One thread per element, 64 to a workgroup, folded into (x, y) past the per-dimension limit. */
export function plainAddKernel(ctx: LowerContext): Kernel[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const y = ctx.output(0);
  if (!a || !b || !y) return ctx.unsupported('Add takes two operands and one result');
  for (const t of [a, b, y]) {
    if (t.dtype !== 'f32') return ctx.unsupported(`the plain Add kernel is f32 only; ${t.name} is ${t.dtype}`);
    if (t.shape.join() !== y.shape.join()) return ctx.unsupported('the plain Add kernel does not broadcast');
  }
  const n = numElements(y.shape);
  const wg = 64;
  const groups = Math.max(1, Math.ceil(n / wg));
  const maxX = ctx.caps.maxComputeWorkgroupsPerDimension;
  const dispatch: [number, number, number] = groups <= maxX ? [groups, 1, 1] : [maxX, Math.ceil(groups / maxX), 1];
  const code = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Uniforms {
  n: u32,
};
@group(0) @binding(3) var<uniform> u: Uniforms;

@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${dispatch[0] * wg}u;
  if (i >= u.n) { return; }
  y[i] = a[i] + b[i];
}
`;
  return [
    {
      name: ctx.kernelName('plain_add'),
      node: ctx.node.name,
      op: 'onnx.Add',
      key: `plain_add/${dispatch[0]}`,
      code,
      bindings: [
        { value: a.name, access: 'read', elem: 'f32' },
        { value: b.name, access: 'read', elem: 'f32' },
        { value: y.name, access: 'read_write', elem: 'f32' },
      ],
      uniforms: [{ name: 'n', type: 'u32', value: n }],
      dispatch,
    },
  ];
}

/** Registers plainAddKernel as onnx.Add unless a family file already lowers Add. */
export function registerPlainAdd(): void {
  if (!lookupWgsl({ domain: ONNX_DOMAIN, op: 'Add' })) defineOnnxWgsl(['Add'], plainAddKernel);
}
