// The built-in passes, in one list. To add a pass: write passes/<name>.ts (or
// passes/canonical/<name>.ts) exporting a `Pass`, import it below and add it to BUILTIN_PASSES —
// one import line and one entry line per pass, nothing else to touch. The registry
// (passes/registry.ts) registers this list on first use and checks names are unique kebab-case.
//
// A pass file must not import passes/registry.ts, passes/pipeline.ts or this file: they import
// every pass, so that would be an import cycle. Passes that run other passes import those
// passes directly and run them with passes/manager.ts (which imports no pass).
import type { Pass } from './pass.ts';
// ── pass imports (append here) ──
import { dce } from './dce.ts';
import { cse } from './cse.ts';
import { constantFold } from './constant-fold.ts';
import { foldShapes } from './fold-shapes.ts';
import { removeNoops } from './remove-noops.ts';
import { recognizeLayerNorm } from './recognize-layernorm.ts';
import { recognizeGelu } from './recognize-gelu.ts';
import { recognizeSilu } from './recognize-silu.ts';
import { recognizeRmsNorm } from './recognize-rmsnorm.ts';
import { canonicalize } from './canonicalize.ts';
import { fuseAttention } from './fuse-attention.ts';
import { svdquant } from './svdquant/pass.ts';

export const BUILTIN_PASSES: readonly Pass[] = [
  // ── pass entries (append here) ──
  dce,
  cse,
  constantFold,
  foldShapes,
  removeNoops,
  recognizeLayerNorm,
  recognizeGelu,
  recognizeSilu,
  recognizeRmsNorm,
  canonicalize,
  fuseAttention,
  svdquant,
];

/**
 * What `--passes default` means: the canonical passes, then attention fusion. Names missing from
 * BUILTIN_PASSES are left out, so the default grows as those passes land.
 */
export const DEFAULT_PIPELINE: string = ['canonicalize', 'fuse-attention']
  .filter((name) => BUILTIN_PASSES.some((p) => p.name === name))
  .join(',');
