// recognize-layernorm: LayerNorm written out, as exporters below opset 17 (and hand-written
// models) spell it, becomes onnx.LayerNormalization (opset ≥ 17; below that it stays):
//   mean = ReduceMean(x, trailing axes)      d = x − mean
//   var  = ReduceMean(d² | d·d)              n = d / Sqrt(var + ε)   (or d · Reciprocal(…))
//   y    = n · γ + β                         (γ and β optional; γ defaults to ones)
// Both means must reduce the same trailing axes with keepdims; γ and β must broadcast onto the
// normalized dims without growing x. The fused op takes the same x dtype (stash_type f32).
import type { Attr, Model } from '../ir/graph.ts';
import type { Pass } from './pass.ts';
import type { RecognizeOptions } from './recognize-gelu.ts';
import type { Match, RewriteBuilder, Rule } from './rewrite.ts';
import { any, constScalar, isConst, isFloat, oneOf, op, rewriteGreedily } from './rewrite.ts';
import { fitsNormalized, onesScale, reduceMean, scalarValue, trailingAxis } from './norm-patterns.ts';

const x = any('x', isFloat);
const d = op('Sub', [x, reduceMean(x, 'mean')], { capture: 'd' });
const variance = reduceMean(oneOf(op('Pow', [d, constScalar(2)]), op('Mul', [d, d])), 'var');
const std = op('Sqrt', [op('Add', [variance, isConst('eps')])]);
const normalized = oneOf(op('Div', [d, std]), op('Mul', [d, op('Reciprocal', [std])]));

function layerNorm(m: Match, b: RewriteBuilder): string | null {
  if (b.opset() < 17) return null;
  const xt = b.tensorType(m.values.x!);
  if (!xt?.shape) return null;
  const axis = trailingAxis(b, xt, [m.nodes.mean!, m.nodes.var!]);
  const eps = scalarValue(b, m.values.eps!);
  if (axis === undefined || eps === undefined) return null;
  const gamma = m.values.gamma ?? onesScale(b, xt, axis);
  if (!gamma || !fitsNormalized(b.tensorType(gamma), xt, axis)) return null;
  const beta = m.values.beta;
  if (beta && !fitsNormalized(b.tensorType(beta), xt, axis)) return null;
  const attrs: Record<string, Attr> = { axis: { kind: 'int', value: axis - xt.shape.length }, epsilon: { kind: 'float', value: eps } };
  return b.op('LayerNormalization', beta ? [m.values.x!, gamma, beta] : [m.values.x!, gamma], attrs);
}

const scaled = op('Mul', [normalized, any('gamma')]);
export const layerNormRules: readonly Rule[] = [
  { name: 'layernorm-affine', pattern: op('Add', [scaled, any('beta')]), rewrite: layerNorm },
  { name: 'layernorm-scale', pattern: op('Mul', [normalized, any('gamma')]), rewrite: layerNorm },
  ...[op('Div', [d, std]), op('Mul', [d, op('Reciprocal', [std])])].map((pattern): Rule => ({ name: 'layernorm-plain', pattern, rewrite: layerNorm })),
];

export const recognizeLayerNorm: Pass<RecognizeOptions> = {
  name: 'recognize-layernorm',
  summary: 'ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div(/Mul/Add) chains → onnx.LayerNormalization (opset ≥ 17)',
  options: { 'max-iterations': { type: 'number', default: 20, summary: 'rewrite sweeps before giving up' } },
  run: (model: Model, ctx) => rewriteGreedily(model, layerNormRules, { maxIterations: ctx.options['max-iterations'] }),
};
