// recognize-silu: x · sigmoid(x) becomes lathe.SiLU (ONNX has no SiLU/Swish op at any opset we
// read, so the lathe domain holds it; see ir/ops/lathe.ts).
import type { Model } from '../ir/graph.ts';
import { LATHE_DOMAIN } from '../ir/graph.ts';
import type { Pass } from './pass.ts';
import type { RecognizeOptions } from './recognize-gelu.ts';
import type { Rule } from './rewrite.ts';
import { any, isFloat, op, rewriteGreedily } from './rewrite.ts';

export const siluRules: readonly Rule[] = [
  {
    name: 'silu',
    pattern: op('Mul', [any('x', isFloat), op('Sigmoid', [any('x')])]),
    rewrite: (m, b) => b.op('SiLU', [m.values.x!], {}, { domain: LATHE_DOMAIN }),
  },
];

export const recognizeSilu: Pass<RecognizeOptions> = {
  name: 'recognize-silu',
  summary: 'x · Sigmoid(x) → lathe.SiLU',
  options: { 'max-iterations': { type: 'number', default: 20, summary: 'rewrite sweeps before giving up' } },
  run: (model: Model, ctx) => rewriteGreedily(model, siluRules, { maxIterations: ctx.options['max-iterations'] }),
};
