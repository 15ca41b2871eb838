// Running ONNX-style test cases: a folder with model.onnx and test_data_set_*/input_N.pb,
// output_N.pb (the layout of the ONNX conformance data and of lathe's fixtures). Each case is
// imported, run by the reference interpreter on every data set, and its outputs compared with
// the expected ones. Used by `lathe conformance`, `lathe run` and the test suite.
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatheError } from '../ir/errors.ts';
import type { Graph, Model } from '../ir/graph.ts';
import { constType, qualifiedOp, subgraphsOf } from '../ir/graph.ts';
import type { Tolerance } from '../ir/interp/compare.ts';
import { CONFORMANCE_TOLERANCE, mismatch } from '../ir/interp/compare.ts';
import { readValuePb } from '../ir/interp/pb.ts';
import { runModel } from '../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../ir/interp/tensor.ts';
import { isTensor } from '../ir/interp/tensor.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import type { ValueType } from '../ir/types.ts';

export const CONFORMANCE_ROOT = '/usr/share/libonnx-testdata/data';

export type CaseStatus = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  /** `node/test_add`: the case folder and the folder holding it. */
  name: string;
  dir: string;
  status: CaseStatus;
  /** Why it failed or was skipped ('' when it passed). */
  reason: string;
  /** Qualified ops the model uses, subgraphs included (once it imported). */
  ops?: string[];
  ms: number;
}

export interface CaseOptions {
  tolerance?: Tolerance;
  /** Check each result against its node's declared type (on by default). */
  checkTypes?: boolean;
  /** Applied to the imported model before it runs (a pass pipeline, later). */
  transform?: (model: Model) => Model;
  /** cuda-cpu: the order the harness runs a block's threads in (a missing barrier shows in reverse/random). */
  order?: 'forward' | 'reverse' | 'random';
}

/** Case folders (holding model.onnx) under each root, or the root itself; sorted, recursive. */
export function findCases(roots: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(path.join(dir, 'model.onnx'))) {
      out.push(dir);
      return;
    }
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const sub = path.join(dir, e);
      if (statSync(sub, { throwIfNoEntry: false })?.isDirectory()) walk(sub);
    }
  };
  for (const r of roots) {
    if (!existsSync(r)) throw new LatheError('UsageError', `no such folder: ${r}`, { file: r });
    walk(path.resolve(r));
  }
  return out;
}

export function caseName(dir: string): string {
  return `${path.basename(path.dirname(dir))}/${path.basename(dir)}`;
}

/** The numbered `prefix_N.pb` files of a data set folder, in order. */
export function numberedFiles(dir: string, prefix: string): string[] {
  const files: string[] = [];
  for (let i = 0; existsSync(path.join(dir, `${prefix}_${i}.pb`)); i++) files.push(path.join(dir, `${prefix}_${i}.pb`));
  return files;
}

export function dataSets(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => path.join(dir, d));
}

/** The type of a value the graph defines at its top level. */
export function valueType(g: Graph, name: string): ValueType {
  for (const v of g.inputs) if (v.name === name) return v.type;
  for (const c of g.constants) if (c.name === name) return constType(c);
  for (const n of g.nodes) for (const o of n.outputs) if (o?.name === name) return o.type;
  throw new LatheError('VerifyError', `graph value '${name}' is not defined`, { value: name });
}

/** Reads input_N.pb files as the graph's inputs, in order (by position, as ONNX's runner does). */
export function readInputs(g: Graph, setDir: string): RuntimeValue[] {
  const files = numberedFiles(setDir, 'input');
  if (files.length > g.inputs.length) {
    throw new LatheError('UsageError', `${setDir} has ${files.length} inputs but the model takes ${g.inputs.length}`, { file: setDir });
  }
  return files.map((f, i) => readValuePb(f, g.inputs[i]!.type));
}

/**
 * Where a case runs: the reference interpreter, WGSL kernels on the WebGPU adapter, or the
 * generated CUDA compiled with g++ against the CPU harness (backends/cuda/cpu).
 */
export type Target = 'interp' | 'wgsl' | 'cuda-cpu';

/** Run one case on the reference interpreter. */
export function runCase(dir: string, options: CaseOptions = {}): CaseResult {
  const steps = caseSteps(dir, options);
  let r = steps.next();
  while (!r.done) {
    let out: RuntimeValue[];
    try {
      out = runModel(r.value.model, r.value.inputs, { checkTypes: options.checkTypes ?? true });
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(out);
  }
  return r.value;
}

/**
 * Run one case on a target. On `wgsl` each data set is specialized to its input shapes, lowered,
 * run on the adapter and compared with the expected outputs; an op or dtype the WGSL backend
 * does not lower is a skip naming it. Throws a BackendError when there is no adapter.
 */
export async function runCaseOn(dir: string, target: Target, options: CaseOptions = {}): Promise<CaseResult> {
  if (target === 'interp') return runCase(dir, options);
  const { specialize, valueInputs } = await import('../backends/wgsl/specialize.ts');
  let runOn: (model: Model, inputs: Tensor[]) => Promise<RuntimeValue[]>;
  if (target === 'wgsl') {
    const wgsl = await import('../backends/wgsl/runtime.ts');
    const { openGpu, gpuUnavailableReason } = await import('../backends/wgsl/gpu.ts');
    const gpu = await openGpu();
    if (!gpu) throw new LatheError('BackendError', `no WebGPU adapter: ${gpuUnavailableReason()}`);
    runOn = (model, inputs) => wgsl.runWgsl(model, inputs, { gpu, file: path.join(dir, 'model.onnx') });
  } else {
    const { runCudaCpu } = await import('../backends/cuda/run-cpu.ts');
    runOn = async (model, inputs) => runCudaCpu(model, inputs, { file: path.join(dir, 'model.onnx'), order: options.order });
  }
  const label = target === 'wgsl' ? 'WGSL' : 'CUDA';
  const steps = caseSteps(dir, options);
  let r = steps.next();
  while (!r.done) {
    let out: RuntimeValue[];
    try {
      const inputs = r.value.inputs;
      if (!inputs.every(isTensor)) throw new SkipCase(`${target}: the ${label} backend takes tensor inputs only`);
      try {
        // As the backend compiles it: for these shapes, with value-only inputs baked as constants.
        specialize(r.value.model, { inputShapes: inputs.map((t) => t.shape), inputValues: valueInputs(r.value.model, inputs) });
      } catch (e) {
        // Shapes that depend on input values (NonZero) or non-tensor values: kernels need static shapes.
        if (e instanceof LatheError && e.kind === 'ShapeError') throw new SkipCase(`${target}: not specializable: ${e.message}`);
        throw e;
      }
      out = await runOn(r.value.model, inputs);
    } catch (e) {
      if (e instanceof SkipCase) {
        r = steps.throw(e);
        continue;
      }
      const skip = e instanceof LatheError && (e.kind === 'UnsupportedOp' || e.kind === 'UnsupportedType');
      r = steps.throw(skip ? new SkipCase(`${target}: ${e.message}`) : e);
      continue;
    }
    r = steps.next(out);
  }
  return r.value;
}

/** Thrown by a runner: the case is skipped with this reason. */
class SkipCase extends Error {}

/**
 * A case as steps: yields each data set's model and inputs, receives the outputs (or the error
 * the runner threw, via throw()), and returns the result. Shared by the sync and async drivers.
 */
function* caseSteps(dir: string, options: CaseOptions): Generator<{ model: Model; inputs: RuntimeValue[] }, CaseResult, RuntimeValue[]> {
  const t0 = performance.now();
  const name = caseName(dir);
  const done = (status: CaseStatus, reason: string, ops?: string[]): CaseResult => ({
    name,
    dir,
    status,
    reason,
    ops,
    ms: performance.now() - t0,
  });
  let model: Model;
  try {
    model = importOnnxFile(path.join(dir, 'model.onnx'));
  } catch (e) {
    // An op lathe does not accept is a skip (named); any other import failure is a failure.
    if (e instanceof LatheError && e.kind === 'UnsupportedOp') return done('skip', `import: ${e.detail}`);
    return done('fail', `import: ${(e as Error).message}`);
  }
  const ops = [...opsOf(model.graph)].sort();
  try {
    if (options.transform) model = options.transform(model);
    const g = model.graph;
    const sets = dataSets(dir);
    if (sets.length === 0) return done('skip', 'no test_data_set_* folder', ops);
    for (const set of sets) {
      const got = yield { model, inputs: readInputs(g, set) };
      const expected = numberedFiles(set, 'output');
      if (expected.length !== g.outputs.length) {
        return done('fail', `${path.basename(set)}: ${expected.length} expected outputs for ${g.outputs.length} graph outputs`, ops);
      }
      for (let i = 0; i < expected.length; i++) {
        const want = readValuePb(expected[i]!, valueType(g, g.outputs[i]!));
        const why = mismatch(got[i], want, options.tolerance ?? CONFORMANCE_TOLERANCE);
        if (why) return done('fail', `${path.basename(set)} output ${i} '${g.outputs[i]}': ${why}`, ops);
      }
    }
    return done('pass', '', ops);
  } catch (e) {
    if (e instanceof SkipCase) return done('skip', e.message.split('\n')[0]!, ops);
    const msg = e instanceof LatheError ? `${e.kind}: ${e.message}` : `internal error: ${(e as Error).stack}`;
    return done('fail', msg.split('\n')[0]!, ops);
  }
}

function opsOf(g: Graph, out = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    out.add(qualifiedOp(n));
    for (const s of subgraphsOf(n)) opsOf(s.graph, out);
  }
  return out;
}
