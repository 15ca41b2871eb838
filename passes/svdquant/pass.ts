// svdquant: SVDQuant's outlier absorption on every linear layer of a model (docs/svdquant.md).
//
//   svdquant{rank=32 format=int4|nvfp4 group=64 alpha=auto smooth=true refine=1 skip="a,b*"
//            calib=FOLDER calib-sets=4 report=FILE.json}
//
// Calibration (passes/svdquant/calibrate.ts, cached) runs the interpreter over the user's input
// sets or generated ones; each layer is then smoothed, split into a low-rank branch and a 4-bit
// residual (passes/svdquant/layer.ts, on worker threads) and rewritten into lathe.Quantize4,
// lathe.Linear4 and lathe.LowRank (passes/svdquant/rewrite.ts). rank=0 and smooth=false give
// the partial forms (naive W4A4 with both), so every comparison of the report can be rebuilt.
import { writeFileSync } from 'node:fs';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import type { Quant4Format } from '../../ir/quant4.ts';
import { QUANT4_FORMATS } from '../../ir/quant4.ts';
import type { Pass } from '../pass.ts';
import type { CalibrationStats } from './calibrate.ts';
import { calibrate, generatedCalibrationInputs, loadCalibrationInputs } from './calibrate.ts';
import type { LayerResult } from './layer.ts';
import type { LinearLayer } from './linear-layers.ts';
import { findLinearLayers, weightMatrix } from './linear-layers.ts';
import { runLayerJobs } from './parallel.ts';
import { buildReport, formatReport } from './report.ts';
import type { QuantizedLayer } from './rewrite.ts';
import { rewriteLayers } from './rewrite.ts';

export type SvdquantOptions = {
  rank: number;
  format: string;
  group: number;
  alpha: string;
  smooth: boolean;
  refine: number;
  skip: string;
  calib: string;
  'calib-sets': number;
  'calib-rows': number;
  report: string;
  table: boolean;
  compare: boolean;
  workers: number;
  seed: number;
};

export interface SvdquantSettings {
  readonly rank: number;
  readonly format: Quant4Format;
  readonly group: number;
  readonly alpha: number | 'auto';
  readonly smooth: boolean;
  readonly refine: number;
  readonly skip: readonly string[];
  readonly compare: boolean;
  readonly workers: number;
  readonly seed: number;
}

const bad = (why: string): never => {
  throw new LatheError('PassError', `svdquant: ${why}`);
};

/** The options checked and given their meaning. */
export function settingsOf(o: SvdquantOptions): SvdquantSettings {
  const format = o.format as Quant4Format;
  if (!QUANT4_FORMATS.includes(format)) bad(`format must be int4 or nvfp4, got '${o.format}'`);
  const group = o.group === 0 ? (format === 'nvfp4' ? 16 : 64) : o.group;
  if (format === 'nvfp4' && group !== 16) bad(`nvfp4 quantizes in groups of 16 (E4M3 scale per 16 values), got group=${group}`);
  if (!Number.isInteger(group) || group < 8 || group % 8 !== 0) bad(`group must be a positive multiple of 8, got ${group}`);
  if (!Number.isInteger(o.rank) || o.rank < 0) bad(`rank must be a non-negative integer, got ${o.rank}`);
  if (!Number.isInteger(o.refine) || o.refine < 0) bad(`refine must be a non-negative integer, got ${o.refine}`);
  let alpha: number | 'auto' = 'auto';
  if (o.alpha !== 'auto') {
    alpha = Number(o.alpha);
    if (!(alpha >= 0 && alpha <= 1)) bad(`alpha must be 'auto' or a number in [0, 1], got '${o.alpha}'`);
  }
  const skip = o.skip.split(',').map((s) => s.trim()).filter(Boolean);
  return { rank: o.rank, format, group, alpha, smooth: o.smooth, refine: o.refine, skip, compare: o.compare, workers: o.workers, seed: o.seed };
}

/** `*` matches any run of characters; anything else itself. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** The layers the pass quantizes, and why the others are not. */
export function selectLayers(model: Model, s: SvdquantSettings): { layers: LinearLayer[]; skipped: { node: string; reason: string }[] } {
  const found = findLinearLayers(model);
  const skipped = found.skipped.map((x) => ({ node: x.node, reason: x.reason }));
  const layers: LinearLayer[] = [];
  for (const l of found) {
    const why = s.skip.some((p) => globMatch(p, l.node))
      ? 'skipped by the skip option'
      : l.dtype !== 'f32'
        ? `the layer computes in ${l.dtype}; the 4-bit ops take f32 activations`
        : undefined;
    if (why) skipped.push({ node: l.node, reason: why });
    else layers.push(l);
  }
  return { layers, skipped };
}

export interface SvdquantRun {
  readonly model: Model;
  readonly report: ReturnType<typeof buildReport>;
}

export interface SvdquantCalibration {
  /** A folder of input_N.pb sets; empty: generated inputs. */
  readonly folder: string;
  readonly sets: number;
  readonly rows: number;
}

/** The whole pass, returning the report with the model (for the CLI, tests and the bench). */
export function runSvdquant(model: Model, s: SvdquantSettings, calib: SvdquantCalibration, progress = true): SvdquantRun {
  const t0 = performance.now();
  const { layers, skipped } = selectLayers(model, s);
  let stats: CalibrationStats | undefined;
  if (layers.length > 0) {
    const inputs = calib.folder ? loadCalibrationInputs(model, calib.folder) : generatedCalibrationInputs(model, calib.sets, s.seed);
    stats = calibrate(model, layers, inputs, { maxRows: calib.rows, progress });
  }
  const t1 = performance.now();
  const results: LayerResult[] = new Array(layers.length);
  const signedOf = (l: LinearLayer) => !(s.format === 'int4' && l.nonNegativeInput);
  runLayerJobs(
    layers.length,
    (i) => {
      const l = layers[i]!;
      const st = stats!.layers.get(l.node);
      if (!st) bad(`calibration has no statistics for layer '${l.node}'`);
      return {
        name: l.node,
        K: l.K,
        N: l.N,
        w: weightMatrix(model, l),
        // Copies: layers reading one activation share its statistics, and jobs are transferred.
        xAbsmax: st!.absmax.slice(),
        rows: st!.rows.slice(),
        T: st!.rowCount,
        options: { rank: s.rank, format: s.format, group: s.group, signed: signedOf(l), smooth: s.smooth, alpha: s.alpha, refine: s.refine, seed: s.seed, compare: s.compare },
      };
    },
    (i, r) => {
      results[i] = r;
      if (progress && process.stderr.isTTY) process.stderr.write(`\rsvdquant: ${results.filter(Boolean).length}/${layers.length} layers`);
    },
    s.workers,
  );
  if (progress && process.stderr.isTTY && layers.length) process.stderr.write('\n');
  const quantized: QuantizedLayer[] = layers.map((layer, i) => ({ layer, result: results[i]!, signed: signedOf(layer) }));
  const out = rewriteLayers(model, quantized, { format: s.format, group: s.group });
  const t2 = performance.now();
  const report = buildReport({ before: model, after: out, settings: s, quantized, skipped, stats, seconds: { calibration: (t1 - t0) / 1000, quantization: (t2 - t1) / 1000 } });
  return { model: out, report };
}

export const svdquant: Pass<SvdquantOptions> = {
  name: 'svdquant',
  summary: 'SVDQuant: smoothing + low-rank branch + 4-bit (INT4/NVFP4) weights and activations on linear layers',
  options: {
    rank: { type: 'number', default: 32, summary: 'rank of the 16-bit low-rank branch (0: none)' },
    format: { type: 'string', default: 'int4', choices: ['int4', 'nvfp4'], summary: '4-bit format: INT4 (f16 scales) or NVFP4 (E2M1, E4M3 scales)' },
    group: { type: 'number', default: 0, summary: 'quantization group along K (0: 64 for int4, 16 for nvfp4)' },
    alpha: { type: 'string', default: 'auto', summary: "smoothing migration strength: 'auto' (grid search per layer) or a number in [0, 1]" },
    smooth: { type: 'boolean', default: true, summary: 'smooth activation outliers into the weights' },
    refine: { type: 'number', default: 1, summary: 'refinement iterations of the low-rank branch against the 4-bit residual' },
    skip: { type: 'string', default: '', summary: 'comma-separated layer (node) names to leave in f32; * matches any run of characters' },
    calib: { type: 'string', default: '', summary: 'folder of calibration input sets (input_N.pb, or subfolders of them); empty: generated inputs' },
    'calib-sets': { type: 'number', default: 4, summary: 'how many input sets to generate when no calib folder is given' },
    'calib-rows': { type: 'number', default: 256, summary: 'calibration token rows kept per layer (for the alpha search and the error report)' },
    report: { type: 'string', default: '', summary: 'write the per-layer report (alpha, rank, bytes, errors) as JSON to this file' },
    table: { type: 'boolean', default: true, summary: 'print the report as a table to stderr' },
    compare: { type: 'boolean', default: true, summary: 'also measure naive W4A4, smoothing only and low-rank only for the report' },
    workers: { type: 'number', default: 0, summary: 'worker threads for the per-layer work (0: one per core, 1: main thread)' },
    seed: { type: 'number', default: 0, summary: 'seed of the randomized SVD and of generated calibration inputs' },
  },
  run(model, ctx) {
    const o = ctx.options;
    const { model: out, report } = runSvdquant(model, settingsOf(o), { folder: o.calib, sets: o['calib-sets'], rows: o['calib-rows'] });
    if (o.report) writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
    if (o.table) process.stderr.write(formatReport(report));
    return out;
  },
};

/** Every option at its default (for code that runs the pass without pipeline text). */
export function defaultSvdquantOptions(): SvdquantOptions {
  return Object.fromEntries(Object.entries(svdquant.options).map(([k, v]) => [k, v.default])) as SvdquantOptions;
}
