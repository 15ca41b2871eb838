// The real models of bench/real-models.ts (torchvision resnet50 and vit_b_16; trained Silero VAD,
// PaddleOCR and openWakeWord models from npm packages) through lathe's GPU backends, as a user
// would run them: the default pass pipeline, then WGSL on the WebGPU adapter and CUDA on the CPU
// harness, each output compared with the reference interpreter on the same seeded inputs
// (rel = max|a−b| / max|b|). A model a backend cannot take is reported with the error it gives.
//
//   node --import tsx bench/real-models-backends.ts [KEY...] [--targets wgsl,cuda-cpu]
//   → table + bench/results/real-models-backends.json
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCudaCpu } from '../backends/cuda/run-cpu.ts';
import { runWgsl } from '../backends/wgsl/runtime.ts';
import { randomInputs } from '../compiler/random-inputs.ts';
import { runModel } from '../ir/interp/run.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { toF64 } from '../ir/interp/tensor.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import { runPipeline } from '../passes/manager.ts';
import { parsePipeline } from '../passes/pipeline.ts';
import { maxRelError } from '../ir/interp/compare.ts';
import { machineFacts } from './lib/machine.ts';
import { REAL_MODELS, REL_TOLERANCE, ROOT } from './real-models.ts';

type Target = 'wgsl' | 'cuda-cpu';


async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { targets: { type: 'string' } } });
  const targets = ((values.targets as string | undefined) ?? 'wgsl,cuda-cpu').split(',') as Target[];
  const models = REAL_MODELS.filter((m) => positionals.length === 0 || positionals.some((k) => m.key.includes(k)));
  const rows: Record<string, unknown>[] = [];
  for (const m of models) {
    const file = m.ensure((l) => console.log(`  ${l}`));
    const model = importOnnxFile(file);
    const inputs = model.graph.inputs.map((v) => randomInputs(model, m.inputs).get(v.name)!);
    const want = runModel(model, inputs) as Tensor[];
    const optimized = runPipeline(model, parsePipeline('default')).model;
    for (const target of targets) {
      const row: Record<string, unknown> = { model: m.key, target };
      const t0 = performance.now();
      try {
        const got = target === 'wgsl' ? await runWgsl(optimized, inputs, { file }) : runCudaCpu(optimized, inputs, { file });
        row.ms = Math.round(performance.now() - t0);
        row.rel = Math.max(...want.map((w, i) => maxRelError(got[i]!, w)));
        row.ok = (row.rel as number) <= REL_TOLERANCE;
      } catch (e) {
        row.ok = false;
        row.error = (e as Error).message.split('\n')[0]!.slice(0, 240);
      }
      rows.push(row);
      console.log(`${m.key.padEnd(26)} ${target.padEnd(9)} ${row.error ? `ERROR ${row.error}` : `rel ${(row.rel as number).toExponential(2)} ${row.ok ? 'ok' : 'MISMATCH'} (${row.ms} ms incl. compile)`}`);
    }
  }
  const out = path.join(ROOT, 'bench/results/real-models-backends.json');
  writeFileSync(out, `${JSON.stringify({ benchmark: 'real-models-backends', date: new Date().toISOString(), machine: machineFacts(ROOT), tolerance: REL_TOLERANCE, rows }, null, 1)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

await main();
