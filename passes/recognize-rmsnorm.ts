// recognize-rmsnorm: RMSNorm written out becomes one op:
//   y = x / Sqrt(ReduceMean(x² | x·x, trailing axes) + ε) · γ   (or x · Reciprocal(Sqrt(…)) · γ)
// → onnx.RMSNormalization where the model's opset is ≥ 23 and lathe knows that op, else
// lathe.RMSNorm (same meaning, ir/ops/lathe.ts). γ defaults to ones. An x that is itself
// `a − mean(a)` is a LayerNorm's centred value: left for recognize-layernorm.
import type { Attr, Model } from '../ir/graph.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../ir/graph.ts';
import { lookupOp } from '../ir/op.ts';
import type { Pass } from './pass.ts';
import type { RecognizeOptions } from './recognize-gelu.ts';
import type { Match, RewriteBuilder, Rule } from './rewrite.ts';
import { any, constScalar, isConst, isFloat, oneOf, op, rewriteGreedily } from './rewrite.ts';
import { fitsNormalized, onesScale, reduceMean, scalarValue, trailingAxis } from './norm-patterns.ts';

const x = any('x', isFloat);
const ms = reduceMean(oneOf(op('Pow', [x, constScalar(2)]), op('Mul', [x, x])), 'ms');
const rms = op('Sqrt', [op('Add', [ms, isConst('eps')])]);
const normalized = [op('Div', [x, rms]), op('Mul', [x, op('Reciprocal', [rms])]), op('Mul', [x, op('Div', [constScalar(1), rms])])];

function rmsNorm(m: Match, b: RewriteBuilder): string | null {
  const xt = b.tensorType(m.values.x!);
  if (!xt?.shape || isCentred(b, m.values.x!)) return null;
  const axis = trailingAxis(b, xt, [m.nodes.ms!]);
  const eps = scalarValue(b, m.values.eps!);
  if (axis === undefined || eps === undefined) return null;
  const gamma = m.values.gamma ?? onesScale(b, xt, axis);
  if (!gamma || !fitsNormalized(b.tensorType(gamma), xt, axis)) return null;
  const attrs: Record<string, Attr> = { axis: { kind: 'int', value: axis - xt.shape.length }, epsilon: { kind: 'float', value: eps } };
  if (b.opset() >= 23 && lookupOp(ONNX_DOMAIN, 'RMSNormalization')) return b.op('RMSNormalization', [m.values.x!, gamma], attrs);
  return b.op('RMSNorm', [m.values.x!, gamma], attrs, { domain: LATHE_DOMAIN });
}

/** x = a − ReduceMean(a): the centred value inside a LayerNorm. */
function isCentred(b: RewriteBuilder, x: string): boolean {
  const sub = b.producer(x);
  if (sub?.op !== 'Sub' || !sub.inputs[1]) return false;
  const mean = b.producer(sub.inputs[1]);
  return mean?.op === 'ReduceMean' && mean.inputs[0] === sub.inputs[0];
}

export const rmsNormRules: readonly Rule[] = [
  ...normalized.map((n): Rule => ({ name: 'rmsnorm-scale', pattern: op('Mul', [n, any('gamma')]), rewrite: rmsNorm })),
  ...normalized.map((pattern): Rule => ({ name: 'rmsnorm-plain', pattern, rewrite: rmsNorm })),
];

export const recognizeRmsNorm: Pass<RecognizeOptions> = {
  name: 'recognize-rmsnorm',
  summary: 'x / sqrt(mean(x²) + ε) · γ → onnx.RMSNormalization (opset ≥ 23) or lathe.RMSNorm',
  options: { 'max-iterations': { type: 'number', default: 20, summary: 'rewrite sweeps before giving up' } },
  run: (model: Model, ctx) => rewriteGreedily(model, rmsNormRules, { maxIterations: ctx.options['max-iterations'] }),
};
