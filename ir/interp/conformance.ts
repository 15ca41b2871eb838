// Runs one ONNX conformance case (a folder with model.onnx and test_data_set_0/input_N.pb,
// output_N.pb) through the importer and the reference interpreter and compares the outputs.
// As a script it runs every case under a folder and prints a summary:
//   node --import tsx ir/interp/conformance.ts [/usr/share/libonnx-testdata/data/node] [name-filter]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Graph, Model } from '../graph.ts';
import { qualifiedOp, subgraphsOf } from '../graph.ts';
import { convertOnnxBytes, importOnnxFile } from '../onnx/import.ts';
import { readTensorPb } from './pb.ts';
import { lookupEval } from './registry.ts';
import { runModel } from './run.ts';
import type { RuntimeValue, Tensor } from './tensor.ts';
import { describe, fromBytes, isTensor, toBytes } from './tensor.ts';
import type { ValueType } from '../types.ts';

export const CONFORMANCE_DIR = '/usr/share/libonnx-testdata/data/node';

export interface CaseResult {
  status: 'pass' | 'fail' | 'skip';
  reason: string;
  /** The ops the model uses (subgraphs included), once it imported. */
  ops?: string[];
}

export interface CaseOptions {
  /** Relative and absolute tolerance of float comparisons. */
  rtol?: number;
  atol?: number;
  /** Convert without type inference (isolates the interpreter from op declarations). */
  noInfer?: boolean;
}

/** Every op of a graph and its subgraphs, as `onnx.Add`. */
function opsOf(g: Graph, out = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    out.add(qualifiedOp(n));
    for (const s of subgraphsOf(n)) opsOf(s.graph, out);
  }
  return out;
}

function missingEvaluators(g: Graph, out = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    if (!lookupEval(n.domain, n.op)) out.add(qualifiedOp(n));
    for (const s of subgraphsOf(n)) missingEvaluators(s.graph, out);
  }
  return out;
}

function pbFiles(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => path.join(dir, f));
}

export function runConformanceCase(dir: string, options: CaseOptions = {}): CaseResult {
  const file = path.join(dir, 'model.onnx');
  let model: Model;
  try {
    model = options.noInfer ? convertOnnxBytes(readFileSync(file), { file, baseDir: dir }) : importOnnxFile(file);
  } catch (e) {
    return { status: 'skip', reason: `import: ${(e as Error).message}` };
  }
  return { ...runImported(model, dir, options), ops: [...opsOf(model.graph)] };
}

function runImported(model: Model, dir: string, options: CaseOptions): CaseResult {
  const rtol = options.rtol ?? 1e-3;
  const atol = options.atol ?? 1e-5;
  const missing = missingEvaluators(model.graph);
  if (missing.size) return { status: 'skip', reason: `no evaluator for ${[...missing].join(', ')}` };
  const g = model.graph;
  if ([...g.inputs.map((v) => v.type)].some((t) => t.kind !== 'tensor')) return { status: 'skip', reason: 'sequence/optional inputs' };
  const data = path.join(dir, 'test_data_set_0');
  let inputs: Map<string, RuntimeValue>;
  let expected: Tensor[];
  try {
    inputs = new Map();
    pbFiles(data, 'input_').forEach((f, i) => {
      const { name, tensor } = readTensorPb(f);
      const input = g.inputs.find((v) => v.name === name) ?? g.inputs[i]!;
      inputs.set(input.name, asDeclared(tensor, input.type));
    });
    expected = pbFiles(data, 'output_').map((f) => readTensorPb(f).tensor);
  } catch (e) {
    return { status: 'skip', reason: `test data: ${(e as Error).message}` };
  }
  let actual: RuntimeValue[];
  try {
    actual = runModel(model, inputs, { checkTypes: !options.noInfer });
  } catch (e) {
    return { status: 'fail', reason: `run: ${(e as Error).message}` };
  }
  if (actual.length !== expected.length) return { status: 'fail', reason: `${actual.length} outputs, expected ${expected.length}` };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    // bf16 test data is stored as u16 bit patterns (numpy has no bfloat16).
    const got = isTensor(a) && a.dtype === 'bf16' && expected[i]!.dtype === 'u16' ? fromBytes('u16', a.shape, toBytes(a)) : a;
    const why = compare(got, expected[i]!, rtol, atol);
    if (why) return { status: 'fail', reason: `output ${i} (${g.outputs[i]}): ${why}` };
  }
  return { status: 'pass', reason: '' };
}

/** A u16 test tensor for a bf16 input holds bf16 bit patterns (numpy has no bfloat16). */
function asDeclared(t: Tensor, type: ValueType): Tensor {
  if (type.kind === 'tensor' && type.dtype === 'bf16' && t.dtype === 'u16') return fromBytes('bf16', t.shape, toBytes(t));
  return t;
}

/** Why `a` does not match `e`, or undefined when it does. */
export function compare(a: RuntimeValue, e: Tensor, rtol: number, atol: number): string | undefined {
  if (!isTensor(a)) return `got ${describe(a)}, expected ${describe(e)}`;
  if (a.dtype !== e.dtype) return `dtype ${a.dtype}, expected ${e.dtype}`;
  if (a.shape.join() !== e.shape.join()) return `shape [${a.shape.join(', ')}], expected [${e.shape.join(', ')}]`;
  const x = a.data;
  const y = e.data;
  let worst = -1;
  let bad = 0;
  for (let i = 0; i < y.length; i++) {
    const u = x[i]!;
    const v = y[i]!;
    if (u === v) continue;
    if (typeof u === 'number' && typeof v === 'number') {
      if (Number.isNaN(u) && Number.isNaN(v)) continue;
      if (Math.abs(u - v) <= atol + rtol * Math.abs(v)) continue;
    }
    bad++;
    if (worst < 0) worst = i;
  }
  if (bad === 0) return undefined;
  return `${bad} of ${y.length} elements differ; first at ${worst}: got ${x[worst]}, expected ${y[worst]}`;
}

/** Every case folder under `root` whose name contains `filter`. */
export function conformanceCases(root = CONFORMANCE_DIR, filter = ''): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => d.includes(filter) && existsSync(path.join(root, d, 'model.onnx')))
    .sort()
    .map((d) => path.join(root, d));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const noInfer = args.includes('--no-infer');
  const verbose = args.includes('-v');
  const [root, filter] = args.filter((a) => !a.startsWith('-'));
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const dir of conformanceCases(root ?? CONFORMANCE_DIR, filter ?? '')) {
    const t0 = performance.now();
    const r = runConformanceCase(dir, { noInfer });
    const ms = performance.now() - t0;
    counts[r.status]++;
    if (r.status === 'fail' || verbose) console.log(`${r.status.toUpperCase()} ${path.basename(dir)} (${ms.toFixed(0)} ms) ${r.reason}`);
  }
  console.log(`${counts.pass} pass, ${counts.fail} fail, ${counts.skip} skip`);
}
