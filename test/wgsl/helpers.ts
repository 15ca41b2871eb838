// Helpers for WGSL tests: run a small model on the WebGPU adapter (lavapipe after
// scripts/setup-webgpu.sh) and on the reference interpreter and compare; validate kernels on
// Dawn's null backend. Tests that need the adapter skip with a loud note when none can be
// created (a machine where the setup script has not run), so the rest of the suite still runs.
import type { Test } from 'uvu';
import type { AttrInput } from '../../ir/builder.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { DType } from '../../ir/dtype.ts';
import type { Model } from '../../ir/graph.ts';
import type { Tolerance } from '../../ir/interp/compare.ts';
import { mismatch } from '../../ir/interp/compare.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, tensorFrom } from '../../ir/interp/tensor.ts';
import { tensor } from '../../ir/types.ts';
import type { Gpu } from '../../backends/wgsl/gpu.ts';
import { gpuUnavailableReason, openGpu, openValidationGpu } from '../../backends/wgsl/gpu.ts';
import type { Program } from '../../backends/wgsl/lower.ts';
import { lowerModel } from '../../backends/wgsl/lower.ts';
import { runWgsl, validateKernels } from '../../backends/wgsl/runtime.ts';
import { specialize } from '../../backends/wgsl/specialize.ts';

export const WGSL_TOLERANCE: Tolerance = { rtol: 1e-4, atol: 1e-5 };

let noted = false;
/** The adapter, or undefined after printing (once per process) why its tests are skipped. */
export async function adapterOrSkip(): Promise<Gpu | undefined> {
  const gpu = await openGpu();
  if (!gpu && !noted) {
    noted = true;
    const line = '!'.repeat(100);
    console.log(`\n${line}\n!! SKIPPING WGSL tests that need a WebGPU adapter: ${gpuUnavailableReason()}\n${line}\n`);
  }
  return gpu;
}

/** A test that runs on the adapter, or is a loud no-op when there is none. */
export function gpuTest(suite: Test, name: string, fn: (gpu: Gpu) => Promise<void>): void {
  suite(name, async () => {
    const gpu = await adapterOrSkip();
    if (gpu) await fn(gpu);
  });
}

/** Seeded pseudo-random values in [lo, hi) (xorshift), for inputs. */
export function randomValues(n: number, seed = 1, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

export function randomTensor(dtype: DType, shape: readonly number[], seed = 1, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randomValues(n, seed, lo, hi);
  const isFloat = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' || dtype === 'f64';
  return tensorFrom(dtype, shape, isFloat ? v : v.map((x) => (dtype === 'bool' ? (x > 0 ? 1 : 0) : Math.round(x))));
}

/** A one-node model: inputs x0, x1, … of the given types, op applied, results returned. */
export function oneNodeModel(
  op: string,
  inputs: readonly { dtype: DType; shape: readonly (number | string)[] }[],
  attrs: Record<string, AttrInput> = {},
  options: { domain?: string; outputs?: number; opset?: number } = {},
): Model {
  const b = new GraphBuilder(op.toLowerCase());
  const xs = inputs.map((t, i) => b.input(`x${i}`, tensor(t.dtype, t.shape)));
  const outs = b.opN(op, xs, attrs, { domain: options.domain, results: options.outputs ?? 1 });
  const m = b.returns(...outs).model();
  return options.opset ? { ...m, opsets: { ...m.opsets, 'ai.onnx': options.opset } } : m;
}

export interface CompareResult {
  got: Tensor[];
  want: Tensor[];
  /** Max |got − want| per output. */
  maxAbs: number[];
}

/**
 * Run `model` on the adapter and on the interpreter with the same inputs; throws with the first
 * mismatch (per output) beyond `tol`. Returns undefined (after a loud note) without an adapter.
 */
export async function compareWithInterpreter(
  model: Model,
  inputs: readonly Tensor[],
  tol: Tolerance = WGSL_TOLERANCE,
): Promise<CompareResult | undefined> {
  const gpu = await adapterOrSkip();
  if (!gpu) return undefined;
  const want = runModel(model, inputs).map((v) => {
    if (!isTensor(v)) throw new Error('the interpreter gave a non-tensor');
    return v;
  });
  const got = await runWgsl(model, inputs, { gpu });
  if (got.length !== want.length) throw new Error(`WGSL gave ${got.length} outputs, the interpreter ${want.length}`);
  const maxAbs = got.map((g, i) => maxAbsDiff(g, want[i]!));
  got.forEach((g, i) => {
    const why = mismatch(g, want[i]!, tol);
    if (why) throw new Error(`output ${i} '${model.graph.outputs[i]}': WGSL vs interpreter: ${why}`);
  });
  return { got, want, maxAbs };
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(Number(a.data[i]) - Number(b.data[i]));
    m = Number.isNaN(d) ? (Number.isNaN(Number(a.data[i])) && Number.isNaN(Number(b.data[i])) ? m : Infinity) : Math.max(m, d);
  }
  return m;
}

/** Specialize and lower for the null backend's caps, then compile every kernel there. */
export async function validateOnNullBackend(model: Model, inputShapes: readonly (readonly number[])[]): Promise<Program> {
  const gpu = await openValidationGpu();
  const program = lowerModel(specialize(model, { inputShapes }), { caps: gpu.caps });
  await validateKernels(gpu, program.kernels);
  return program;
}
