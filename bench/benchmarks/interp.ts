// `interp`: how long lathe's reference interpreter takes to run torchvision vit_b_16 and resnet50
// at batch 1, against ONNX Runtime (CPU) on the same inputs, each measurement in a fresh process.
// The inputs are made once (seeded, bench/real-models.ts) and written as input_N.pb files under
// bench/out/interp-inputs/<model>/, which both sides read. Issue target: lathe under 30× ORT.
//
// ONNX Runtime is measured twice per repeat: with its default options (all cores) and with one
// intra-op thread (lathe's interpreter is single-threaded). Its first run in a process is the
// figure comparable with lathe's single run; its warm runs (median of 5 after the first) are given
// too. lathe's time per op type comes from the interpreter's onNode hook.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Benchmark } from './types.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { writeTensorPb } from '../../ir/interp/pb.ts';
import { mb, ms, ratio, table } from '../lib/format.ts';
import { median, runTask, summarize } from '../lib/measure.ts';
import type { Measurement } from '../lib/measure.ts';
import { randomInputs } from '../../compiler/random-inputs.ts';
import { REAL_MODELS } from '../real-models.ts';

const MODELS = ['vit_b_16', 'resnet50'];
const WARM_RUNS = 5;

interface Side {
  key: string;
  label: string;
  file: string;
  args: (model: string, inputs: string) => string[];
}

const SIDES: Side[] = [
  { key: 'lathe', label: 'lathe runModel', file: 'bench/tasks/interp-lathe.ts', args: (m, i) => [m, i] },
  { key: 'ort', label: 'ORT run (default threads)', file: 'bench/tasks/interp-ort.ts', args: (m, i) => [m, i, '0', String(WARM_RUNS)] },
  { key: 'ort1', label: 'ORT run (1 thread)', file: 'bench/tasks/interp-ort.ts', args: (m, i) => [m, i, '1', String(WARM_RUNS)] },
];

/** Medians of info numbers across runs (info.warmRunMs, op:* times). */
function infoMedian(runs: readonly Measurement[], key: string): number | undefined {
  const xs = runs.map((r) => r.info[key]).filter((x): x is number => typeof x === 'number');
  return xs.length ? median(xs) : undefined;
}

export const interpBenchmark: Benchmark = {
  name: 'interp',
  description: 'lathe reference interpreter vs ONNX Runtime CPU: vit_b_16 and resnet50, batch 1',
  async run(ctx) {
    const results: Record<string, unknown> = {};
    const reportParts: string[] = [];
    const rows = [['model', 'lathe run ms', 'ORT 1st run ms', 'ORT warm ms', 'ORT 1t 1st ms', 'ORT 1t warm ms', 'lathe/ORT 1st', 'lathe/ORT warm', 'lathe/ORT 1t warm', 'lathe peak RSS MB']];
    for (const key of MODELS) {
      const real = REAL_MODELS.find((m) => m.key === key)!;
      const model = real.ensure(ctx.log);
      const inputDir = path.join(ctx.root, 'bench', 'out', 'interp-inputs', key);
      rmSync(inputDir, { recursive: true, force: true });
      mkdirSync(inputDir, { recursive: true });
      const inputs = randomInputs(importOnnxFile(model), real.inputs);
      [...inputs].forEach(([name, t], i) => writeTensorPb(path.join(inputDir, `input_${i}.pb`), t, name));
      ctx.log(`${key}: inputs ${[...inputs].map(([n, t]) => `${n} ${t.dtype}[${t.shape.join(', ')}]`).join(', ')}`);

      const runs: Record<string, Measurement[]> = {};
      for (let i = 0; i < ctx.repeat; i++) {
        // Interleaved, so drift in the machine's speed hits every side alike.
        for (const s of SIDES) {
          const m = await runTask(path.join(ctx.root, s.file), s.args(model, inputDir), { timeoutMs: 20 * 60_000 });
          (runs[s.key] ??= []).push(m);
          const warm = typeof m.info.warmRunMs === 'number' ? `, warm ${ms(m.info.warmRunMs)} ms` : '';
          ctx.log(`  ${key} ${s.key} run ${i + 1}/${ctx.repeat}: run ${ms(m.phasesMs.run ?? NaN)} ms${warm}, peak RSS ${mb(m.peakRssBytes)} MB`);
        }
      }
      const lathe = summarize(runs.lathe!);
      const ort = summarize(runs.ort!);
      const ort1 = summarize(runs.ort1!);
      const latheRun = lathe.phasesMs.run!;
      const ortWarm = infoMedian(runs.ort!, 'warmRunMs')!;
      const ort1Warm = infoMedian(runs.ort1!, 'warmRunMs')!;
      const ratios = {
        latheOverOrtFirstRun: latheRun / ort.phasesMs.run!,
        latheOverOrtWarm: latheRun / ortWarm,
        latheOverOrt1ThreadFirstRun: latheRun / ort1.phasesMs.run!,
        latheOverOrt1ThreadWarm: latheRun / ort1Warm,
      };
      rows.push([
        key,
        ms(latheRun),
        ms(ort.phasesMs.run!),
        ms(ortWarm),
        ms(ort1.phasesMs.run!),
        ms(ort1Warm),
        ratio(ratios.latheOverOrtFirstRun),
        ratio(ratios.latheOverOrtWarm),
        ratio(ratios.latheOverOrt1ThreadWarm),
        mb(lathe.peakRssBytes),
      ]);

      // Where lathe's time goes: op types by median time across runs.
      const ops = Object.keys(lathe.info)
        .filter((k) => k.startsWith('op:'))
        .map((k) => ({ op: k.slice(3), ms: infoMedian(runs.lathe!, k)!, count: Number(lathe.info[`count:${k.slice(3)}`] ?? 0) }))
        .sort((a, b) => b.ms - a.ms);
      const opTotal = ops.reduce((s, o) => s + o.ms, 0);
      const opRows = [['op', 'count', 'ms', 'share']];
      for (const o of ops.slice(0, 8)) opRows.push([o.op, String(o.count), ms(o.ms), `${((100 * o.ms) / opTotal).toFixed(1)}%`]);
      const slow = Object.keys(lathe.info)
        .filter((k) => /^slow\d+$/.test(k))
        .map((k) => `  ${lathe.info[k]}`);
      reportParts.push([`${key}: lathe time by op type (median over runs)`, table(opRows), 'slowest nodes (last run):', ...slow].join('\n'));

      const sums = (s: Measurement[]) => Object.fromEntries(Object.entries(s[s.length - 1]!.info).filter(([k]) => k.endsWith(':sum')));
      results[key] = {
        model: { path: real.file, bytes: statSync(model).size, source: real.source },
        inputs: [...inputs].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] })),
        lathe: { task: 'importOnnxFile, then one runModel (phase run)', ...lathe },
        ort: { task: `InferenceSession.create (default options), first run (phase run), median of ${WARM_RUNS} warm runs`, warmRunMs: ortWarm, ...ort },
        ort1Thread: { task: `as ort with intraOpNumThreads 1`, warmRunMs: ort1Warm, ...ort1 },
        ratios,
        latheOpsMs: Object.fromEntries(ops.map((o) => [o.op, { ms: o.ms, count: o.count }])),
        outputSums: { lathe: sums(runs.lathe!), ort: sums(runs.ort!) },
        target: 'lathe run under 30× ORT',
      };
    }
    const report = [
      `${ctx.repeat} run(s) per side, each in a fresh process; times are medians. lathe runs once per process;`,
      `ORT's "1st" is its first run in the process, "warm" the median of ${WARM_RUNS} runs after it; "1t" = intraOpNumThreads 1.`,
      '',
      table(rows),
      '',
      ...reportParts.flatMap((p) => [p, '']),
      'issue target: lathe under 30× ORT',
    ].join('\n');
    return { report, results };
  },
};
