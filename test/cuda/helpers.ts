// Test helpers for the CUDA lowerings: op cases (test/wgsl/ops-harness.ts's opCase) are merged
// into one model, so one g++ build of the generated CUDA checks many cases, then run on the CPU
// harness in forward and reverse thread order (a missing barrier shows in one of them) and
// compared with the reference interpreter. The merged model takes the highest opset of its
// cases, so a case that depends on an old opset's attribute form needs a checkCuda of its own.
import * as assert from 'uvu/assert';
import type { Graph, Model, Node } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor } from '../../ir/interp/tensor.ts';
import { emitCuda } from '../../backends/cuda/emit.ts';
import { lowerCudaModel } from '../../backends/cuda/lower.ts';
import { findNvcc, kernelResources } from '../../backends/cuda/nvcc.ts';
import { runCudaCpu } from '../../backends/cuda/run-cpu.ts';
import { specialize, valueInputs } from '../../backends/wgsl/specialize.ts';
import type { OpCase } from '../wgsl/ops-harness.ts';
import { mismatch } from '../wgsl/ops-harness.ts';

export { opCase, rng, mismatch } from '../wgsl/ops-harness.ts';
export type { OpCase } from '../wgsl/ops-harness.ts';

/** Cases side by side in one graph: case i's values and nodes prefixed `c<i>_`. */
export function mergeCases(cases: readonly OpCase[]): OpCase {
  const first = cases[0]!.model;
  const inputs: Graph['inputs'][number][] = [];
  const constants: Graph['constants'][number][] = [];
  const nodes: Node[] = [];
  const outputs: string[] = [];
  const opsets: Record<string, number> = {};
  cases.forEach((c, i) => {
    const g = c.model.graph;
    for (const [d, v] of Object.entries(c.model.opsets)) opsets[d] = Math.max(opsets[d] ?? 0, v);
    const p = (n: string) => `c${i}_${n}`;
    for (const v of g.inputs) inputs.push({ ...v, name: p(v.name) });
    for (const k of g.constants) constants.push({ ...k, name: p(k.name) });
    for (const n of g.nodes) {
      nodes.push({ ...n, name: p(n.name), inputs: n.inputs.map((x) => (x ? p(x) : x)), outputs: n.outputs.map((o) => (o ? { ...o, name: p(o.name) } : o)) });
    }
    for (const o of g.outputs) outputs.push(p(o));
  });
  const model: Model = { ...first, opsets: { ...first.opsets, ...opsets }, graph: { name: 'cases', inputs, constants, nodes, outputs } };
  return { model, inputs: cases.flatMap((c) => c.inputs) };
}

/**
 * Every kernel of `kernels` (a kernels.cuh) builds with nvcc for sm_80 and sm_90 with warnings as
 * errors (a spill is a warning), and ptxas reports no spills and no stack frame (the kernels
 * declare no local arrays). Nothing to check where nvcc is not installed.
 */
export function assertNoSpills(label: string, kernels: string): void {
  if (!findNvcc()) return;
  for (const r of kernelResources(kernels, [80, 90])) {
    assert.is(r.spillStoreBytes + r.spillLoadBytes, 0, `${label}: ${r.entry} spills at sm_${r.arch}`);
    if (r.stackBytes > 0 && callsTrig(kernels, r.entry)) continue;
    assert.is(r.stackBytes, 0, `${label}: ${r.entry} uses ${r.stackBytes} bytes of local memory at sm_${r.arch}`);
  }
}

/**
 * Whether kernel `entry` calls sin/cos/tan: CUDA's math library reduces a huge argument
 * (Payne–Hanek) in a small local array, so those kernels have a stack frame the kernel text does
 * not declare. It is only touched for |x| beyond ~10^5; the check allows it and nothing else.
 */
function callsTrig(kernels: string, entry: string): boolean {
  const at = kernels.indexOf(`${entry}(`);
  const end = kernels.indexOf('extern "C"', at + 1);
  const text = kernels.slice(at, end < 0 ? undefined : end);
  return /\b(sin|cos|tan|sincos)f?\s*\(/.test(text);
}

export interface CheckOptions {
  rtol?: number;
  atol?: number;
  /** Thread orders to run in (default forward and reverse). */
  orders?: readonly ('forward' | 'reverse' | 'random')[];
  /** An AddressSanitizer + UndefinedBehaviorSanitizer build. */
  sanitize?: boolean;
}

/**
 * Build the cases as one CUDA program, run it on the CPU harness in each order, and assert every
 * result matches the interpreter (by case name in messages).
 */
export function checkCuda(name: string, cases: readonly OpCase[], options: CheckOptions = {}): void {
  const merged = mergeCases(cases);
  // The same program through nvcc: every kernel compiles for sm_80 and sm_90 without spills.
  const values = valueInputs(merged.model, merged.inputs);
  const spec = specialize(merged.model, { inputShapes: merged.inputs.map((t) => t.shape), inputValues: values });
  assertNoSpills(name, emitCuda(lowerCudaModel(spec), { model: name }).sources['kernels.cuh']);
  const want = runModel(merged.model, merged.inputs).map((v) => {
    if (!isTensor(v)) throw new Error('expected a tensor');
    return v;
  });
  // Which case each output belongs to, for messages.
  const owner: number[] = [];
  cases.forEach((c, i) => c.model.graph.outputs.forEach(() => owner.push(i)));
  for (const order of options.orders ?? ['forward', 'reverse']) {
    const got: Tensor[] = runCudaCpu(merged.model, merged.inputs, { order, sanitize: options.sanitize });
    assert.is(got.length, want.length, `${name}: result count`);
    want.forEach((w, i) => {
      assert.equal(got[i]!.shape, w.shape, `${name} case ${owner[i]} (${cases[owner[i]!]!.model.graph.nodes[0]?.op}): shape of result ${i}`);
      const m = mismatch(got[i]!, w, options.rtol ?? 1e-4, options.atol ?? 1e-5);
      assert.not.ok(m, `${name} case ${owner[i]} (${cases[owner[i]!]!.model.graph.nodes[0]?.op}), ${order} order: result ${i}: ${m}`);
    });
  }
}
