// recognize-gelu: GELU written out as its formula, as exporters write it, becomes one op.
//   exact:  x · 0.5 · (1 + erf(x / √2))                        (erf(x · 1/√2) too)
//   tanh:   x · 0.5 · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) (x³ as Pow(x, 3) or x·(x·x))
// The three products may be grouped any way ((x·A)·½ as torch 1.13 writes it, (x·½)·A as
// Hugging Face does, x·(A·½)) and each Mul/Add in either operand order; ·½ may be /2.
// The result is onnx.Gelu when the model's ai.onnx opset is ≥ 20 (where ONNX has the op) and
// lathe.Gelu (same meaning, ir/ops/lathe.ts) below that, so the model stays valid at its opset.
import type { Attr, Model } from '../ir/graph.ts';
import { LATHE_DOMAIN } from '../ir/graph.ts';
import type { Pass } from './pass.ts';
import type { Pattern, RewriteBuilder, Rule } from './rewrite.ts';
import { any, constScalar, isFloat, oneOf, op, rewriteGreedily } from './rewrite.ts';

const x = any('x', isFloat);
const half = constScalar(0.5);

const erfTerm = op('Add', [op('Erf', [oneOf(op('Div', [x, constScalar(Math.SQRT2)]), op('Mul', [x, constScalar(Math.SQRT1_2)]))]), constScalar(1)]);

const cube = oneOf(op('Pow', [x, constScalar(3)]), op('Mul', [x, op('Mul', [x, x])]));
const tanhTerm = op('Add', [
  op('Tanh', [op('Mul', [op('Add', [x, op('Mul', [cube, constScalar(0.044715)])]), constScalar(Math.sqrt(2 / Math.PI))])]),
  constScalar(1),
]);

/** Every grouping of x · ½ · term as a root pattern. */
function products(term: Pattern): Pattern[] {
  return [
    op('Mul', [op('Mul', [x, term]), half]),
    op('Mul', [op('Mul', [x, half]), term]),
    op('Mul', [x, op('Mul', [term, half])]),
    op('Div', [op('Mul', [x, term]), constScalar(2)]),
  ];
}

function gelu(approximate: 'none' | 'tanh') {
  return (m: { values: Readonly<Record<string, string>> }, b: RewriteBuilder) => {
    const attrs: Record<string, Attr> = { approximate: { kind: 'string', value: approximate } };
    if (b.opset() >= 20) return b.op('Gelu', [m.values.x!], attrs);
    return b.op('Gelu', [m.values.x!], attrs, { domain: LATHE_DOMAIN });
  };
}

export const geluRules: readonly Rule[] = [
  ...products(erfTerm).map((pattern, i): Rule => ({ name: `gelu-erf-${i}`, pattern: pattern as Rule['pattern'], rewrite: gelu('none') })),
  ...products(tanhTerm).map((pattern, i): Rule => ({ name: `gelu-tanh-${i}`, pattern: pattern as Rule['pattern'], rewrite: gelu('tanh') })),
];

export type RecognizeOptions = { 'max-iterations': number };

export const recognizeGelu: Pass<RecognizeOptions> = {
  name: 'recognize-gelu',
  summary: 'GELU formulas (erf and tanh forms) → onnx.Gelu (opset ≥ 20) or lathe.Gelu',
  options: { 'max-iterations': { type: 'number', default: 20, summary: 'rewrite sweeps before giving up' } },
  run: (model: Model, ctx) => rewriteGreedily(model, geluRules, { maxIterations: ctx.options['max-iterations'] }),
};
