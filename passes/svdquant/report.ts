// svdquant's report: per layer α, β, rank, bytes before and after, and the layer-output relative
// error against f32 of naive W4A4, smoothing only, low-rank only and SVDQuant (measured on
// sampled calibration rows and output channels, passes/svdquant/layer.ts); totals for the model.
import type { Model } from '../../ir/graph.ts';
import { byteSize } from '../../ir/dtype.ts';
import { numElements } from '../../ir/types.ts';
import type { CalibrationStats } from './calibrate.ts';
import { describeSource } from './calibrate.ts';
import type { SvdquantSettings } from './pass.ts';
import type { QuantizedLayer } from './rewrite.ts';
import { layerBytes } from './rewrite.ts';

export interface LayerReport {
  readonly node: string;
  readonly kind: string;
  readonly K: number;
  readonly N: number;
  readonly alpha: number | null;
  readonly beta: number | null;
  readonly rank: number;
  readonly signedActivations: boolean;
  readonly bytes: { readonly original: number; readonly fp16: number; readonly after: number; readonly weights: number; readonly scales: number; readonly lowRank: number; readonly smooth: number };
  readonly error: { readonly naive: number | null; readonly smooth: number | null; readonly lowrank: number | null; readonly svdquant: number | null; readonly result: number };
  readonly seconds: number;
}

export interface SvdquantReport {
  readonly pass: 'svdquant';
  readonly settings: Omit<SvdquantSettings, 'skip'> & { readonly skip: readonly string[] };
  readonly calibration: { readonly source: string; readonly inputSets: number; readonly rowsPerLayer: number; readonly fromCache: boolean; readonly seconds: number } | null;
  readonly layers: readonly LayerReport[];
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
  readonly totals: {
    readonly layers: number;
    /** The quantized layers' weights as they were, in fp16, and after. */
    readonly layerBytesOriginal: number;
    readonly layerBytesFp16: number;
    readonly layerBytesAfter: number;
    readonly savingVsFp16: number;
    /** Every constant of the model before and after. */
    readonly modelBytesBefore: number;
    readonly modelBytesAfter: number;
  };
  readonly seconds: { readonly calibration: number; readonly quantization: number };
}

function constantBytes(m: Model): number {
  let n = 0;
  for (const c of m.graph.constants) if (c.tensor.dtype !== 'string') n += byteSize(c.tensor.dtype, numElements(c.tensor.shape));
  for (const node of m.graph.nodes) {
    const v = node.op === 'Constant' ? node.attrs.value : undefined;
    if (v?.kind === 'tensor' && v.value.dtype !== 'string') n += byteSize(v.value.dtype, numElements(v.value.shape));
  }
  return n;
}

export function buildReport(a: {
  before: Model;
  after: Model;
  settings: SvdquantSettings;
  quantized: readonly QuantizedLayer[];
  skipped: readonly { node: string; reason: string }[];
  stats: CalibrationStats | undefined;
  seconds: { calibration: number; quantization: number };
}): SvdquantReport {
  const layers: LayerReport[] = a.quantized.map((q) => {
    const { layer: l, result: r } = q;
    const b = layerBytes(q);
    const after = b.weights + b.scales + b.lowRank + b.smooth;
    return {
      node: l.node,
      kind: l.kind,
      K: l.K,
      N: l.N,
      alpha: r.alpha ?? null,
      beta: r.beta ?? null,
      rank: r.l1 ? r.l1.length / l.K : 0,
      signedActivations: q.signed,
      bytes: { original: l.K * l.N * byteSize(l.dtype, 1), fp16: l.K * l.N * 2, after, ...b },
      error: { naive: r.errors.naive ?? null, smooth: r.errors.smooth ?? null, lowrank: r.errors.lowrank ?? null, svdquant: r.errors.svdquant ?? null, result: r.errors.result },
      seconds: r.seconds,
    };
  });
  const sum = (f: (l: LayerReport) => number) => layers.reduce((s, l) => s + f(l), 0);
  const fp16 = sum((l) => l.bytes.fp16);
  const after = sum((l) => l.bytes.after);
  return {
    pass: 'svdquant',
    settings: a.settings,
    calibration: a.stats
      ? { source: describeSource(a.stats.source), inputSets: a.stats.inputSets, rowsPerLayer: a.stats.maxRows, fromCache: a.stats.fromCache, seconds: a.stats.seconds }
      : null,
    layers,
    skipped: a.skipped,
    totals: {
      layers: layers.length,
      layerBytesOriginal: sum((l) => l.bytes.original),
      layerBytesFp16: fp16,
      layerBytesAfter: after,
      savingVsFp16: after > 0 ? fp16 / after : 0,
      modelBytesBefore: constantBytes(a.before),
      modelBytesAfter: constantBytes(a.after),
    },
    seconds: a.seconds,
  };
}

const e = (v: number | null) => (v === null ? '—' : v.toExponential(2));
const mb = (n: number) => (n / 2 ** 20).toFixed(2);

/** The report as a table. */
export function formatReport(r: SvdquantReport): string {
  const s = r.settings;
  const lines = [
    `svdquant: ${r.layers.length} layer(s), ${s.format} (group ${s.group}), rank ${s.rank}, smoothing ${s.smooth ? `α ${s.alpha}` : 'off'}, ${s.refine} refinement(s)`,
  ];
  if (r.calibration) lines.push(`  calibration: ${r.calibration.source}${r.calibration.fromCache ? ' (cached)' : ''}, ${r.calibration.seconds.toFixed(1)} s`);
  lines.push('  layer-output error vs f32 (relative, on calibration rows): naive W4A4 | smoothing only | low-rank only | SVDQuant');
  const head = ['layer', 'K×N', 'α', 'β', 'rank', 'MiB fp16→4bit', 'naive', 'smooth', 'low-rank', 'svdquant'];
  const rows = r.layers.map((l) => [
    l.node,
    `${l.K}×${l.N}`,
    l.alpha === null ? '—' : l.alpha.toFixed(2),
    l.beta === null ? '—' : l.beta.toFixed(2),
    String(l.rank),
    `${mb(l.bytes.fp16)}→${mb(l.bytes.after)} (${(l.bytes.fp16 / l.bytes.after).toFixed(2)}×)`,
    e(l.error.naive),
    e(l.error.smooth),
    e(l.error.lowrank),
    e(l.error.svdquant),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmtRow = (row: string[]) => '  ' + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(fmtRow(head), ...rows.map(fmtRow));
  const t = r.totals;
  lines.push(
    `  total: layers ${mb(t.layerBytesFp16)} MiB in fp16 → ${mb(t.layerBytesAfter)} MiB (${t.savingVsFp16.toFixed(2)}× smaller); model constants ${mb(t.modelBytesBefore)} → ${mb(t.modelBytesAfter)} MiB`,
  );
  for (const sk of r.skipped) lines.push(`  not quantized: ${sk.node}: ${sk.reason}`);
  lines.push(`  time: calibration ${r.seconds.calibration.toFixed(1)} s, quantization ${r.seconds.quantization.toFixed(1)} s`);
  return lines.join('\n') + '\n';
}
