// `wgsl`: end-to-end latency of lathe's compiled WGSL against ONNX Runtime's WebGPU execution
// provider, in one process on the same adapter (bench/tasks/wgsl-run.ts), for the three fixtures
// (on their test_data_set_0 inputs, batch 3) and a 1024×1024 MatMul. lathe's time is the
// generated host module's run(): input upload, every dispatch, output read-back — what a user of
// the artifacts gets. Also: lathe's dispatch count, and agreement of both with the expected outputs.
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Benchmark, BenchContext } from './types.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { writeTensorPb } from '../../ir/interp/pb.ts';
import { makeTensor } from '../../ir/interp/tensor.ts';
import { exportOnnxFile } from '../../ir/onnx/export.ts';
import { tensor } from '../../ir/types.ts';
import { ms, ratio, table } from '../lib/format.ts';
import { median, runTask, summarize } from '../lib/measure.ts';
import type { Measurement } from '../lib/measure.ts';

const WARM = 3;

interface Case {
  readonly key: string;
  readonly model: string;
  readonly inputs: string;
}

/** bench/out/wgsl/matmul-1024/: a MatMul of two 1024×1024 f32 inputs, seeded values in [-1, 1). */
function ensureMatmul(ctx: BenchContext): Case {
  const dir = path.join(ctx.root, 'bench', 'out', 'wgsl', 'matmul-1024-data');
  const model = path.join(dir, 'model.onnx');
  if (!existsSync(path.join(dir, 'input_1.pb'))) {
    mkdirSync(dir, { recursive: true });
    const b = new GraphBuilder('matmul_1024');
    const a = b.input('a', tensor('f32', [1024, 1024]));
    const c = b.input('b', tensor('f32', [1024, 1024]));
    b.returns(b.op('MatMul', [a, c], {}, { name: 'matmul' }));
    exportOnnxFile(b.model(), model);
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const [i, name] of ['a', 'b'].entries()) {
      writeTensorPb(path.join(dir, `input_${i}.pb`), makeTensor('f32', [1024, 1024], Float32Array.from({ length: 1024 * 1024 }, rand)), name);
    }
  }
  return { key: 'matmul-1024', model, inputs: dir };
}

const fixture = (ctx: BenchContext, name: string): Case => ({
  key: name,
  model: path.join(ctx.root, 'fixtures', name, 'model.onnx'),
  inputs: path.join(ctx.root, 'fixtures', name, 'test_data_set_0'),
});

const num = (runs: readonly Measurement[], key: string): number | undefined => {
  const xs = runs.map((r) => r.info[key]).filter((x): x is number => typeof x === 'number');
  return xs.length ? median(xs) : undefined;
};
const fmt = (x: number | undefined) => (x === undefined ? '—' : ms(x));
const err = (x: number | undefined) => (x === undefined ? '—' : x.toExponential(1));

export const wgslBenchmark: Benchmark = {
  name: 'wgsl',
  description: "lathe's compiled WGSL (generated host module) vs ONNX Runtime WebGPU, same adapter, same process: 3 fixtures + 1024² MatMul",
  async run(ctx) {
    const cases = [fixture(ctx, 'gpt2-tiny'), fixture(ctx, 'vit-tiny'), fixture(ctx, 'dit-block'), ensureMatmul(ctx)];
    const rows = [['model', 'dispatches', 'lathe 1st ms', 'lathe warm ms', 'ORT 1st ms', 'ORT warm ms', 'lathe/ORT warm', 'lathe vs ORT', 'lathe vs expected']];
    const results: Record<string, unknown> = {};
    const failures: string[] = [];
    let adapter = '';
    for (const c of cases) {
      const runs: Measurement[] = [];
      const out = path.join(ctx.root, 'bench', 'out', 'wgsl', c.key);
      const measure = () => runTask(path.join(ctx.root, 'bench/tasks/wgsl-run.ts'), [c.model, c.inputs, out, String(WARM)], { timeoutMs: 20 * 60_000 });
      // lavapipe compiles a pipeline's shaders at its first dispatch (a minute for a model, cold)
      // and keeps them in the Mesa shader cache: one unmeasured process first, so every measured
      // first run, lathe's and ORT's alike, starts from a warm cache.
      const warmup = await measure();
      ctx.log(`  ${c.key} warm-up: lathe 1st ${fmt(warmup.phasesMs.latheFirstRun)} ms, ORT 1st ${fmt(warmup.phasesMs.ortFirstRun)} ms (shader cache filled; not counted)`);
      for (let i = 0; i < ctx.repeat; i++) {
        const m = await measure();
        runs.push(m);
        adapter = String(m.info.adapter ?? adapter);
        const l = m.info.latheError ? `lathe failed: ${m.info.latheError}` : `lathe 1st ${fmt(m.phasesMs.latheFirstRun)} ms, warm ${fmt(m.info.latheWarmMs as number)} ms`;
        ctx.log(`  ${c.key} run ${i + 1}/${ctx.repeat}: ${l}; ORT 1st ${fmt(m.phasesMs.ortFirstRun)} ms, warm ${fmt(m.info.ortWarmMs as number)} ms`);
      }
      const s = summarize(runs);
      const latheWarm = num(runs, 'latheWarmMs');
      const ortWarm = num(runs, 'ortWarmMs');
      const latheError = runs.map((r) => r.info.latheError).find((x) => x !== undefined);
      if (latheError) failures.push(`${c.key}: ${latheError}`);
      rows.push([
        c.key,
        String(s.info.dispatches ?? '—'),
        fmt(latheError ? undefined : s.phasesMs.latheFirstRun),
        fmt(latheWarm),
        fmt(s.phasesMs.ortFirstRun),
        fmt(ortWarm),
        latheWarm !== undefined && ortWarm !== undefined ? ratio(latheWarm / ortWarm) : '—',
        err(num(runs, 'latheVsOrtErr0')),
        err(num(runs, 'latheErr0')),
      ]);
      results[c.key] = {
        model: path.relative(ctx.root, c.model),
        inputs: path.relative(ctx.root, c.inputs),
        dispatches: s.info.dispatches,
        kernels: s.info.kernels,
        gpuBytes: s.info.gpuBytes,
        peakLiveBytes: s.info.peakLiveBytes,
        latheCompileMs: latheError ? undefined : s.phasesMs.latheCompile,
        latheCreateMs: latheError ? undefined : s.phasesMs.latheCreate,
        latheFirstRunMs: latheError ? undefined : s.phasesMs.latheFirstRun,
        latheWarmMs: latheWarm,
        ortCreateMs: s.phasesMs.ortCreate,
        ortFirstRunMs: s.phasesMs.ortFirstRun,
        ortWarmMs: ortWarm,
        latheOverOrtWarm: latheWarm !== undefined && ortWarm !== undefined ? latheWarm / ortWarm : undefined,
        maxRelErr: { latheVsOrt: num(runs, 'latheVsOrtErr0'), latheVsExpected: num(runs, 'latheErr0'), ortVsExpected: num(runs, 'ortErr0') },
        latheError,
        runs: s.all,
      };
    }
    const report = [
      `adapter: ${adapter}; per model one unmeasured process (fills the Mesa shader cache), then ${ctx.repeat} measured process(es),`,
      `each: lathe compile + createModel, ORT create, one first run each, then ${WARM} alternating warm runs (medians)`,
      'lathe times are the generated model.ts run(): upload, dispatches, read-back; errors are max|a−b|/max|b| of output 0',
      '',
      table(rows),
      ...(failures.length ? ['', 'lathe could not compile:', ...failures.map((f) => `  ${f}`)] : []),
    ].join('\n');
    return { report, results: { adapter, warmRuns: WARM, ...results } };
  },
};
