// canonicalize: the canonical passes, round after round, until a round changes nothing:
//   dce, fold-shapes, constant-fold, remove-noops, cse,
//   recognize-layernorm, recognize-gelu, recognize-silu, recognize-rmsnorm (option `recognize`)
// Each folds or simplifies what the others expose (a Shape folds, its Gather then folds, a
// Reshape to the same shape then disappears, …). More than `max-rounds` rounds is reported as an
// error naming the passes that still changed the model.
import { LatheError } from '../ir/errors.ts';
import type { Model } from '../ir/graph.ts';
import { constantFold } from './constant-fold.ts';
import { cse } from './cse.ts';
import { dce } from './dce.ts';
import { foldShapes } from './fold-shapes.ts';
import type { OptionValue, Pass, PassContext } from './pass.ts';
import { recognizeGelu } from './recognize-gelu.ts';
import { recognizeLayerNorm } from './recognize-layernorm.ts';
import { recognizeRmsNorm } from './recognize-rmsnorm.ts';
import { recognizeSilu } from './recognize-silu.ts';
import { removeNoops } from './remove-noops.ts';

export type CanonicalizeOptions = {
  'max-rounds': number;
  'max-elements': number;
  recognize: boolean;
};

const SIMPLIFY: readonly Pass[] = [dce, foldShapes, constantFold, removeNoops, cse];
const RECOGNIZE: readonly Pass[] = [recognizeLayerNorm, recognizeGelu, recognizeSilu, recognizeRmsNorm];

export const canonicalize: Pass<CanonicalizeOptions> = {
  name: 'canonicalize',
  summary: 'dce, fold-shapes, constant-fold, remove-noops, cse and the op recognizers, to a fixpoint',
  options: {
    'max-rounds': { type: 'number', default: 10, summary: 'rounds over all the passes before giving up' },
    'max-elements': { type: 'number', default: 1 << 16, summary: 'largest result constant-fold keeps' },
    recognize: { type: 'boolean', default: true, summary: 'run the op recognizers (LayerNorm, GELU, SiLU, RMSNorm)' },
  },
  run: (model, ctx) => canonicalizeModel(model, ctx.options),
};

export function canonicalizeModel(model: Model, opts: Partial<CanonicalizeOptions> = {}): Model {
  const maxRounds = opts['max-rounds'] ?? 10;
  const passes = [...SIMPLIFY, ...((opts.recognize ?? true) ? RECOGNIZE : [])];
  const overrides: Record<string, OptionValue> = { 'max-elements': opts['max-elements'] ?? 1 << 16 };
  let m = model;
  for (let round = 0; round < maxRounds; round++) {
    const changed: string[] = [];
    for (const p of passes) {
      const next = runPass(p, m, overrides);
      if (next !== m) changed.push(p.name);
      m = next;
    }
    if (changed.length === 0) return m;
    if (round === maxRounds - 1) {
      throw new LatheError('PassError', `canonicalize did not reach a fixpoint in ${maxRounds} rounds; still changing: ${changed.join(', ')}`);
    }
  }
  return m;
}

/** Run a pass with its default options (and any of `overrides` it declares). */
export function runPass(p: Pass, model: Model, overrides: Record<string, OptionValue> = {}): Model {
  const options: Record<string, OptionValue> = {};
  for (const [k, spec] of Object.entries(p.options as Record<string, { default: OptionValue }>)) options[k] = overrides[k] ?? spec.default;
  const ctx: PassContext<Record<string, OptionValue>> = { options, analysis: (a) => a.compute(model) };
  return p.run(model, ctx);
}
