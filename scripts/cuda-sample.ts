// Makes test/cuda/conformance-sample.json from a full CUDA conformance run: for every op the
// CUDA backend lowers, the fastest passing case that uses it (greedy cover: a case already chosen
// covers all its ops), so the test suite checks every lowered op against the ONNX data without
// building all 1,072 cases.
//
//   npx lathe conformance /usr/share/libonnx-testdata/data --target cuda-cpu -j 2 --json full.json
//   node --import tsx scripts/cuda-sample.ts full.json
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaLoweredOps } from '../backends/cuda/lowering.ts';
import '../backends/cuda/ops/index.ts';

interface Result { name: string; status: string; ops?: string[]; ms: number }

const file = process.argv[2];
if (!file) throw new Error('usage: node --import tsx scripts/cuda-sample.ts FULL_RUN.json');
const results = (JSON.parse(readFileSync(file, 'utf8')) as Result[]).filter((r) => r.status === 'pass' && r.ops);
// 'onnx.Abs' (how cases name ops) → 'ai.onnx::Abs' (how the registry keys them).
const key = (op: string) => (op.startsWith('onnx.') ? `ai.onnx::${op.slice(5)}` : op.replace('.', '::'));
const covered = new Set<string>();
const cases: string[] = [];
const lowered = cudaLoweredOps();
for (const op of lowered) {
  if (covered.has(op)) continue;
  const best = results.filter((r) => r.ops!.some((o) => key(o) === op)).sort((a, b) => a.ms - b.ms)[0];
  if (!best) continue;
  cases.push(best.name);
  for (const o of best.ops!) if (lowered.includes(key(o))) covered.add(key(o));
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/cuda/conformance-sample.json');
writeFileSync(out, `${JSON.stringify({ cases: cases.sort(), covers: [...covered].sort() }, null, 1)}\n`);
console.log(`${cases.length} cases cover ${covered.size} of ${lowered.length} lowered ops; ${lowered.filter((o) => !covered.has(o)).join(', ') || 'none'} have no passing case`);
