// `passes`: the default pipeline (canonicalize, fuse-attention; verify-each on) on torchvision
// vit_b_16, wall time and peak memory, each run in a fresh process. Issue aim: under 2 s.
// The import is timed as its own phase, so the pipeline's time stands alone; peak RSS is the
// whole process's (import included), with the file size beside it.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { Benchmark } from './types.ts';
import { ensureVitB16, MODEL } from './import.ts';
import { mb, ms, ratio, table } from '../lib/format.ts';
import { runTask, summarize } from '../lib/measure.ts';
import type { Measurement } from '../lib/measure.ts';

export const passesBenchmark: Benchmark = {
  name: 'passes',
  description: 'the default pipeline (canonicalize, fuse-attention, verify-each) on vit_b_16: time and peak memory',
  async run(ctx) {
    const model = ensureVitB16(ctx);
    const fileBytes = statSync(model).size;
    const runs: Measurement[] = [];
    for (let i = 0; i < ctx.repeat; i++) {
      const m = await runTask(path.join(ctx.root, 'bench/tasks/passes-lathe.ts'), [model], { timeoutMs: 10 * 60_000 });
      runs.push(m);
      ctx.log(`  run ${i + 1}/${ctx.repeat}: pipeline ${ms(m.phasesMs.pipeline ?? NaN)} ms, peak RSS ${mb(m.peakRssBytes)} MB`);
    }
    const s = summarize(runs);
    const info = runs[runs.length - 1]!.info;
    const passRows = Object.entries(info)
      .filter(([k]) => k.startsWith('pass:'))
      .map(([k, v]) => [k.slice(5), String(v), String(info[`verify:${k.slice(5)}`] ?? '')]);
    const report = [
      `model: ${MODEL} (${mb(fileBytes)} MB), ${ctx.repeat} run(s), each in a fresh process`,
      '',
      table([
        ['phase', 'time ms'],
        ['import', ms(s.phasesMs.import ?? NaN)],
        ['default pipeline', ms(s.phasesMs.pipeline ?? NaN)],
      ]),
      '',
      table([['pass', 'ms', 'verify ms'], ...passRows]),
      '',
      `nodes: ${info.nodesBefore} → ${info.nodesAfter}; lathe.Attention: ${info.attention}`,
      `peak RSS: ${mb(s.peakRssBytes)} MB (${ratio(s.peakRssBytes / fileBytes)} the file; import alone is ~1.3×)`,
      `aim: pipeline under 2000 ms`,
    ].join('\n');
    return {
      report,
      results: {
        model: { path: MODEL, bytes: fileBytes },
        pipelineMs: s.phasesMs.pipeline,
        importMs: s.phasesMs.import,
        peakRssBytes: s.peakRssBytes,
        peakRssOverFileSize: s.peakRssBytes / fileBytes,
        info,
      },
    };
  },
};
