// Checks fuse-attention on real exports: how many attention blocks it fuses, and that the
// reference interpreter gives the same outputs before and after (max|a − b| / max|b| ≤ 1e-5).
//
//   node --import tsx bench/check-attention.ts                 # the fixtures and vit_b_16
//   node --import tsx bench/check-attention.ts vit_b_16        # only models whose key contains it
//
// The fixtures run on their test_data_set_0 inputs; torchvision vit_b_16 (made into bench/out/
// by bench/make-torchvision.py if missing) on one seeded random image (batch 1). Exits 1 when a model
// fuses fewer attentions than it has or its outputs move by more than the tolerance.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { outputError } from '../compiler/ort-reference.ts';
import { randomInputs } from '../compiler/random-inputs.ts';
import type { Model } from '../ir/graph.ts';
import { runModel } from '../ir/interp/run.ts';
import { readTensorPb } from '../ir/interp/pb.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import { verifyModel } from '../ir/verify.ts';
import { formatReport, fuseAttentionModel } from '../passes/fuse-attention.ts';
import { ensureTorchvision } from './lib/torchvision.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOLERANCE = 1e-5;

interface Case {
  key: string;
  file: string;
  /** Attention blocks the model has (all must fuse). */
  expected: number;
  inputs(model: Model): Tensor[] | Map<string, Tensor>;
}

const fixture = (name: string, expected: number): Case => ({
  key: name,
  file: `fixtures/${name}/model.onnx`,
  expected,
  inputs: () => {
    const dir = path.join(ROOT, 'fixtures', name, 'test_data_set_0');
    const files = readdirSync(dir).filter((f) => /^input_\d+\.pb$/.test(f));
    files.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
    return files.map((f) => readTensorPb(path.join(dir, f)).tensor);
  },
});

const CASES: Case[] = [
  fixture('gpt2-tiny', 2),
  fixture('vit-tiny', 2),
  fixture('dit-block', 1),
  { key: 'vit_b_16', file: 'bench/out/vit_b_16.onnx', expected: 12, inputs: (m) => randomInputs(m, { seed: 1, defaultDim: 1 }) },
];

function ensure(c: Case): string {
  const abs = path.join(ROOT, c.file);
  if (existsSync(abs) || c.key !== 'vit_b_16') return abs;
  return ensureTorchvision(ROOT, 'vit_b_16', console.log);
}

let failed = false;
const filter = process.argv[2] ?? '';
for (const c of CASES.filter((x) => x.key.includes(filter))) {
  const file = ensure(c);
  const before = importOnnxFile(file);
  const t0 = performance.now();
  const { model: after, report } = fuseAttentionModel(before);
  const fuseMs = performance.now() - t0;
  verifyModel(after, { file });
  const inputs = c.inputs(before);
  const t1 = performance.now();
  const want = runModel(before, inputs);
  const t2 = performance.now();
  const got = runModel(after, inputs);
  const t3 = performance.now();
  const errors = got.map((g, i) => outputError(before.graph.outputs[i]!, g, want[i] as Tensor, TOLERANCE));
  const ok = report.fused.length === c.expected && errors.every((e) => e.ok);
  failed ||= !ok;
  const rel = Math.max(...errors.map((e) => e.rel));
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${c.key}: fused ${report.fused.length} of ${c.expected}; max rel error ${rel.toExponential(2)}` +
      ` (tolerance ${TOLERANCE}); fuse ${fuseMs.toFixed(0)} ms, interpreter ${((t2 - t1) / 1000).toFixed(1)} s before, ${((t3 - t2) / 1000).toFixed(1)} s after`,
  );
  process.stdout.write(formatReport(report).trimEnd().replace(/^/gm, '    ') + '\n');
}
process.exit(failed ? 1 : 0);
