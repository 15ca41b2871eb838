// `import`: how long lathe takes to read torchvision's vit_b_16 (346 MB ONNX) into its IR, verify
// it and print it, and how much memory that takes, against ONNX Runtime creating a CPU inference
// session from the same file. Each run is a fresh process; times are medians, peak RSS the max.
import { createReadStream, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Benchmark, BenchContext } from './types.ts';
import { ensureTorchvision, torchvisionFile } from '../lib/torchvision.ts';
import { mb, ms, ratio, table } from '../lib/format.ts';
import { runTask, summarize } from '../lib/measure.ts';
import type { Measurement } from '../lib/measure.ts';

export const MODEL = torchvisionFile('vit_b_16');

/** Makes bench/out/vit_b_16.onnx with bench/make-torchvision.py if it is missing. */
export function ensureVitB16(ctx: BenchContext): string {
  return ensureTorchvision(ctx.root, 'vit_b_16', ctx.log);
}

/** Reads the file once so that no measured run pays for a cold page cache. */
async function warmPageCache(file: string): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 8 << 20 })) {
    // discard
  }
}

interface Task {
  key: string;
  label: string;
  file: string;
}

export const importBenchmark: Benchmark = {
  name: 'import',
  description: 'lathe import + verify + print of vit_b_16 vs ONNX Runtime InferenceSession.create',
  async run(ctx) {
    const model = ensureVitB16(ctx);
    const fileBytes = statSync(model).size;
    await warmPageCache(model);

    const tasks: Task[] = [
      { key: 'lathe', label: 'lathe import+verify+print', file: 'bench/tasks/import-lathe.ts' },
      { key: 'ort', label: 'ORT InferenceSession.create', file: 'bench/tasks/import-ort.ts' },
    ];
    const runs: Record<string, Measurement[]> = {};
    // Interleave the tasks so drift in the machine's speed hits both alike.
    for (let i = 0; i < ctx.repeat; i++) {
      for (const t of tasks) {
        const m = await runTask(path.join(ctx.root, t.file), [model], { timeoutMs: 10 * 60_000 });
        (runs[t.key] ??= []).push(m);
        ctx.log(`  ${t.key} run ${i + 1}/${ctx.repeat}: ${ms(m.taskMs)} ms, peak RSS ${mb(m.peakRssBytes)} MB`);
      }
    }
    const roundTrip = await runTask(path.join(ctx.root, 'bench/tasks/roundtrip-lathe.ts'), [model], { timeoutMs: 10 * 60_000 });
    ctx.log(`  round trip: ${roundTrip.info.roundTrip} (${ms(roundTrip.taskMs)} ms)`);
    const lathe = summarize(runs.lathe!);
    const ort = summarize(runs.ort!);
    const ratios = {
      timeLatheOverOrt: lathe.taskMs / ort.taskMs,
      processTimeLatheOverOrt: lathe.processMs / ort.processMs,
      peakRssLatheOverOrt: lathe.peakRssBytes / ort.peakRssBytes,
      latheExtraRssOverFileSize: (lathe.peakRssBytes - lathe.rssBeforeBytes) / fileBytes,
      lathePeakRssOverFileSize: lathe.peakRssBytes / fileBytes,
      ortPeakRssOverFileSize: ort.peakRssBytes / fileBytes,
    };

    const rows = [['task', 'time ms', 'process ms', 'peak RSS MB', 'RSS before MB', 'peak RSS / file']];
    for (const [t, s] of [
      [tasks[0]!, lathe],
      [tasks[1]!, ort],
    ] as const) {
      rows.push([t.label, ms(s.taskMs), ms(s.processMs), mb(s.peakRssBytes), mb(s.rssBeforeBytes), ratio(s.peakRssBytes / fileBytes)]);
    }
    const phases = Object.entries(lathe.phasesMs)
      .map(([p, t]) => `${p} ${ms(t)} ms`)
      .join(', ');
    const report = [
      `model: ${MODEL} (${mb(fileBytes)} MB), ${ctx.repeat} run(s) per task, each in a fresh process`,
      `time: medians of the measured work; process: whole child process wall time; peak RSS: max`,
      '',
      table(rows),
      '',
      `lathe phases: ${phases}`,
      `lathe / ORT time:           ${ratio(ratios.timeLatheOverOrt)} (whole process ${ratio(ratios.processTimeLatheOverOrt)})`,
      `lathe / ORT peak RSS:       ${ratio(ratios.peakRssLatheOverOrt)}`,
      `lathe peak RSS / file size: ${ratio(ratios.lathePeakRssOverFileSize)} (above start-up RSS: ${ratio(ratios.latheExtraRssOverFileSize)})`,
      `text round trip:            ${roundTrip.info.roundTrip} (print, parse, reprint, compare: ${Object.entries(roundTrip.phasesMs).map(([p, t]) => `${p} ${ms(t)} ms`).join(', ')})`,
    ].join('\n');

    return {
      report,
      results: {
        model: { path: MODEL, bytes: fileBytes, source: 'torchvision vit_b_16, random init seed 0, opset 17 (bench/make-torchvision.py)' },
        lathe: { task: 'importOnnxFile + verifyModel + printModel', ...lathe },
        ort: { task: 'InferenceSession.create (default options)', ...ort },
        ratios,
        roundTrip: { ok: roundTrip.info.roundTrip === 'ok', phasesMs: roundTrip.phasesMs },
      },
    };
  },
};
