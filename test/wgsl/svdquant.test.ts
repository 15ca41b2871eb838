// The SVDQuant ops' WGSL kernels (backends/wgsl/ops/svdquant.ts) run on the adapter against the
// interpreter (ir/interp/ops/svdquant.ts, whose arithmetic is ir/quant4.ts):
//   Quantize4  codes and scales bit for bit: int4 signed/unsigned and nvfp4, with and without
//              inv_smooth, rows of zeros, all-equal groups, rounding ties, huge values (E4M3
//              saturation), small ones (E4M3 subnormal scales, scales rounding to 0);
//   Linear4    within relative 1e-5, and in fact bit for bit (groups in order, no FMA): int4 signed and unsigned
//              activations, nvfp4, with and without bias, odd M, N off the tile, rank-3 input,
//              operands as graph inputs (one byte per i32) and as constants (packed words);
//   LowRank    with and without inv_smooth, rank 32 and 16;
//   a chain Quantize4 → Linear4 + LowRank → Add, whose QX, QW (and nvfp4 SW) are packed four bytes
//   to a u32 word, end to end; and with one-hot weights, where Y = code · scale exposes every
//   packed code and scale of Quantize4 bit for bit.
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AttrInput } from '../../ir/builder.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, makeTensor, toConst, toF64 } from '../../ir/interp/tensor.ts';
import { e4m3Code, packNibbles, paddedK, quantizeActivations, quantizeWeight, toF16 } from '../../ir/quant4.ts';
import type { Quant4Format } from '../../ir/quant4.ts';
import { tensor } from '../../ir/types.ts';
import { openValidationGpu } from '../../backends/wgsl/gpu.ts';
import { lowerModel } from '../../backends/wgsl/lower.ts';
import { runWgsl, validateKernels } from '../../backends/wgsl/runtime.ts';
import { specialize } from '../../backends/wgsl/specialize.ts';
import { compileWgsl, writeWgslArtifacts } from '../../backends/wgsl/compile.ts';
import { adapterOrSkip, randomValues } from './helpers.ts';
import { hostInput, importHost, scratchDir } from './compile-helpers.ts';

// ---- building models ----

interface Operand {
  t: Tensor;
  /** A constant of the graph (else a graph input). */
  c?: boolean;
}

/** One or more lathe ops over operands; `build` returns the graph's outputs. */
function model(ops: Operand[], build: (b: GraphBuilder, names: string[]) => string[]): { model: Model; inputs: Tensor[] } {
  const b = new GraphBuilder('svdquant', { [ONNX_DOMAIN]: 21, [LATHE_DOMAIN]: 1 });
  const inputs: Tensor[] = [];
  const names = ops.map((o, i) => {
    if (o.c) return b.constant(`c${i}`, toConst(o.t));
    inputs.push(o.t);
    return b.input(`in${i}`, tensor(o.t.dtype, o.t.shape));
  });
  return { model: b.returns(...build(b, names)).model(), inputs };
}

const lathe = (b: GraphBuilder, op: string, ins: (string | null)[], attrs: Record<string, AttrInput>, results = 1) =>
  b.opN(op, ins, attrs, { domain: LATHE_DOMAIN, results });

const f32 = (shape: number[], values: ArrayLike<number>) => makeTensor('f32', shape, Float32Array.from(values));
const f16 = (shape: number[], values: ArrayLike<number>) => makeTensor('f16', shape, Float32Array.from(values, toF16));
const rand = (shape: number[], seed: number, lo = -1, hi = 1) => f32(shape, randomValues(shape.reduce((a, c) => a * c, 1), seed, lo, hi));

function interp(m: Model, inputs: Tensor[]): Tensor[] {
  return runModel(m, inputs).map((v) => {
    if (!isTensor(v)) throw new Error('expected tensors');
    return v;
  });
}

/** Bit-for-bit equality (f32 by their bits); returns the elements compared. */
function exact(what: string, got: Tensor, want: Tensor): number {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.dtype, want.dtype, `${what}: dtype`);
  const bits = (t: Tensor) => (t.data instanceof Float32Array ? new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length) : t.data);
  const g = bits(got);
  const w = bits(want);
  for (let i = 0; i < w.length; i++) {
    if (g[i] !== w[i]) throw new Error(`${what}: element ${i}: got ${got.data[i]}, want ${want.data[i]}`);
  }
  return w.length;
}

/** Within relative `rtol` of max |want| per element (f32 accumulation order); returns [compared, bit-exact]. */
function close(what: string, got: Tensor, want: Tensor, rtol = 1e-5, atol = 0): [number, number] {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  const a = toF64(got);
  const b = toF64(want);
  let same = 0;
  for (let i = 0; i < b.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]!);
    if (!(Math.abs(a[i]! - b[i]!) <= tol)) throw new Error(`${what}: element ${i}: got ${a[i]}, want ${b[i]} (tolerance ${tol})`);
    if (a[i] === b[i]) same++;
  }
  return [b.length, same];
}

/** Elements compared: bit for bit (Quantize4 codes and scales, Linear4 outputs, one-hot chains), and within tolerance (LowRank, chains). */
const counts = { quantize: 0, linear: 0, onehot: 0, close: 0 };

/** Run on the adapter (undefined: none, after a loud note) and the interpreter. */
async function both(c: { model: Model; inputs: Tensor[] }): Promise<{ got: Tensor[]; want: Tensor[] } | undefined> {
  const gpu = await adapterOrSkip();
  if (!gpu) return undefined;
  const want = interp(c.model, c.inputs);
  const got = await runWgsl(c.model, c.inputs, { gpu });
  assert.is(got.length, want.length);
  return { got, want };
}

// ---- Quantize4 ----

/**
 * Rows of K values that hit the edges: zeros; a group of equal values; ties of round() (int4:
 * absmax 7 or 15, so s = 1 and x̂/s = k + ½; nvfp4: absmax 6, s = 1, E2M1's decision points);
 * huge values (E4M3 saturates at 448); small ones (E4M3 subnormal scales, and scales that round to
 * 0); then random rows over many magnitudes.
 */
function edgeRows(K: number, format: Quant4Format, signed: boolean, rows: number, seed: number): Float32Array {
  const x = new Float32Array(rows * K);
  const r = randomValues(rows * K, seed);
  const ties = format === 'nvfp4' ? [6, 0.25, -0.75, 1.25, -1.75, 2.5, -3.5, 5, 0.75, -0.25, 1.75, -5, 3.5, -2.5, 1.25, 0] : signed ? [7, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 6.5, -7, 4.5, -4.5, 5.5, 0, -5.5] : [15, 0.5, 1.5, 2.5, 3.5, 4.5, 14.5, 13.5, 7.5, 8.5, 0, 9.5, 10.5, 11.5, 12.5, 6.5];
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < K; k++) {
      const i = row * K + k;
      const v = signed ? r[i]! : Math.abs(r[i]!);
      switch (row % 8) {
        case 0: x[i] = 0; break;
        case 1: x[i] = signed ? -0.3 : 0.3; break; // all equal
        case 2: x[i] = ties[k % 16]!; break;
        case 3: x[i] = v * 3000 + (k % 16 === 0 ? 2900 : 0); break; // a/6 > 448: saturation
        case 4: x[i] = v * 1e-3; break; // E4M3 subnormal scales
        case 5: x[i] = v * 2 ** -13; break; // scales that round to 0 in E4M3
        case 6: x[i] = v * 2 ** (((k * 7) % 40) - 20); break; // wide magnitudes within a group
        default: x[i] = v * (1 + row); break;
      }
    }
  }
  return x;
}

async function checkQuantize(what: string, shape: number[], attrs: { format: Quant4Format; group?: number; signed?: number }, smooth: 'none' | 'const' | 'input', seed: number): Promise<void> {
  const K = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const signed = attrs.signed !== 0;
  const x = f32(shape, edgeRows(K, attrs.format, signed, rows, seed));
  const ops: Operand[] = [{ t: x }];
  if (smooth !== 'none') ops.push({ t: rand([K], seed + 1, 0.5, 2), c: smooth === 'const' });
  const c = model(ops, (b, n) => lathe(b, 'Quantize4', n, attrs, 2));
  const r = await both(c);
  if (!r) return;
  counts.quantize += exact(`${what}: QX`, r.got[0]!, r.want[0]!);
  counts.quantize += exact(`${what}: SX`, r.got[1]!, r.want[1]!);
}

// Each case is a kernel of its own (sizes are baked in), and lavapipe compiles each for seconds:
// the cases cover the code paths with few kernels.
test('Quantize4: codes and scales bit for bit (int4 signed/unsigned, nvfp4; inv_smooth none, constant, input; K padded)', async () => {
  await checkQuantize('int4 signed', [24, 128], { format: 'int4' }, 'none', 1);
  await checkQuantize('int4 signed, inv_smooth, rank 3, K 100 padded to 128', [2, 12, 100], { format: 'int4' }, 'const', 2);
  await checkQuantize('int4 signed, group 32, inv_smooth input', [17, 96], { format: 'int4', group: 32 }, 'input', 3);
  await checkQuantize('int4 unsigned, inv_smooth, K 70 padded to 128', [16, 70], { format: 'int4', signed: 0 }, 'const', 4);
  await checkQuantize('nvfp4', [40, 64], { format: 'nvfp4' }, 'none', 6);
  await checkQuantize('nvfp4, inv_smooth input, rank 3, K 40 padded to 48', [2, 8, 40], { format: 'nvfp4' }, 'input', 7);
});

test('E4M3 scales on every decision point: a/6 across the code range, ties and saturation', async () => {
  // One nvfp4 group (16 values) per row whose absmax a makes a/6 each E4M3 value, each midpoint
  // between neighbours (ties to even), and just off the midpoints; then values above 448.
  const targets: number[] = [];
  for (let c = 0; c < 127; c++) {
    const e = c >> 3;
    const m = c & 7;
    const v = e === 0 ? m * 2 ** -9 : (8 + m) * 2 ** (e - 10);
    const next = c === 126 ? 480 : ((c + 1) >> 3 === 0 ? ((c + 1) & 7) * 2 ** -9 : (8 + ((c + 1) & 7)) * 2 ** (((c + 1) >> 3) - 10));
    const mid = (v + next) / 2;
    targets.push(v, mid, Math.fround(mid * (1 + 2 ** -20)), Math.fround(mid * (1 - 2 ** -20)));
  }
  targets.push(448, 449, 464, 465, 1000, 1e30);
  const K = 16;
  const x = new Float32Array(targets.length * K);
  targets.forEach((t, row) => {
    const a = Math.fround(t * 6);
    for (let k = 0; k < K; k++) x[row * K + k] = k === 0 ? -a : Math.fround(a * ((k * 37) % 17) / 17);
  });
  // The targets really are E4M3 decision points (the interpreter's own rounding, as a sanity check).
  assert.is(e4m3Code(Math.fround(Math.fround(2 ** -9 * 1.5 * 6) / 6)), 2);
  const c = model([{ t: f32([targets.length, K], x) }], (b, n) => lathe(b, 'Quantize4', n, { format: 'nvfp4' }, 2));
  const r = await both(c);
  if (!r) return;
  counts.quantize += exact('E4M3 sweep: QX', r.got[0]!, r.want[0]!);
  counts.quantize += exact('E4M3 sweep: SX', r.got[1]!, r.want[1]!);
});

// ---- Linear4 ----

interface LinearCase {
  format: Quant4Format;
  group?: number;
  signed?: boolean;
  lead: number[];
  K: number;
  N: number;
  bias: boolean;
  /** QW and SW as graph inputs (one byte per i32) rather than constants (packed words). */
  weightInputs?: boolean;
  seed: number;
}

function linearOperands(c: LinearCase): { ops: Operand[]; attrs: Record<string, AttrInput> } {
  const group = c.group ?? (c.format === 'nvfp4' ? 16 : 64);
  const signed = c.signed ?? true;
  const rows = c.lead.reduce((a, b) => a * b, 1);
  const xv = Float32Array.from(randomValues(rows * c.K, c.seed), (v, i) => (signed ? v : Math.abs(v)) * (1 + (i % 7)));
  const { q, s } = quantizeActivations(xv, rows, c.K, { format: c.format, group, signed });
  const w = Float32Array.from(randomValues(c.K * c.N, c.seed + 1), (v, i) => v * (1 + ((i * 3) % 5)));
  const qw = quantizeWeight(w, c.K, c.N, c.format, group);
  const Kp = paddedK(c.K, group);
  const groups = Kp / group;
  const ops: Operand[] = [
    { t: makeTensor('u8', [...c.lead, Kp / 2], q) },
    { t: f32([...c.lead, groups], s) },
    { t: makeTensor('u8', [c.N, Kp / 2], qw.q), c: !c.weightInputs },
    { t: c.format === 'int4' ? f16([c.N, groups], qw.s) : makeTensor('u8', [c.N, groups], Uint8Array.from(qw.s)), c: !c.weightInputs },
  ];
  if (c.bias) ops.push({ t: rand([c.N], c.seed + 2), c: true });
  const attrs: Record<string, AttrInput> = { format: c.format, group, signed: signed ? 1 : 0 };
  if (c.format === 'nvfp4') attrs.weight_scale = qw.weightScale;
  return { ops, attrs };
}

async function checkLinear(what: string, c: LinearCase): Promise<void> {
  const { ops, attrs } = linearOperands(c);
  const m = model(ops, (b, n) => [lathe(b, 'Linear4', n, attrs)[0]!]);
  const r = await both(m);
  if (!r) return;
  close(what, r.got[0]!, r.want[0]!);
  // Groups accumulate in order and the kernel keeps the multiply apart from the add (no FMA), so
  // on the adapter the results are the interpreter's bit for bit, beyond the doc's 1e-5.
  counts.linear += exact(what, r.got[0]!, r.want[0]!);
}

test('Linear4: int4 signed/unsigned, nvfp4; bias; odd M; N off the tile; rank 3; K padded; packed and per-byte operands', async () => {
  await checkLinear('int4, M 197, N 72, bias', { format: 'int4', lead: [197], K: 128, N: 72, bias: true, seed: 11 });
  // Group 128: two staging steps per group; K 192 padded to 256.
  await checkLinear('int4 unsigned, group 128, [3, 7, 192], N 40', { format: 'int4', signed: false, group: 128, lead: [3, 7], K: 192, N: 40, bias: false, seed: 12 });
  await checkLinear('int4 group 32, K 100 padded to 128, weights as inputs', { format: 'int4', group: 32, lead: [33], K: 100, N: 130, bias: true, weightInputs: true, seed: 13 });
  await checkLinear('nvfp4, M 197, N 100, bias', { format: 'nvfp4', lead: [197], K: 64, N: 100, bias: true, seed: 14 });
  await checkLinear('nvfp4, [2, 5, 256], weights as inputs', { format: 'nvfp4', lead: [2, 5], K: 256, N: 24, bias: false, weightInputs: true, seed: 15 });
});

// ---- LowRank ----

async function checkLowRank(what: string, lead: number[], K: number, R: number, N: number, smooth: boolean, seed: number): Promise<void> {
  const ops: Operand[] = [
    { t: rand([...lead, K], seed) },
    { t: f16([K, R], randomValues(K * R, seed + 1, -0.5, 0.5)), c: true },
    { t: f16([R, N], randomValues(R * N, seed + 2, -0.5, 0.5)), c: true },
  ];
  if (smooth) ops.push({ t: rand([K], seed + 3, 0.5, 2), c: true });
  const m = model(ops, (b, n) => [lathe(b, 'LowRank', n, {})[0]!]);
  const r = await both(m);
  if (!r) return;
  // f32 sums against the interpreter's f64 sums: relative to the output's scale.
  const scale = Math.max(...toF64(r.want[0]!).map(Math.abs));
  const [n] = close(what, r.got[0]!, r.want[0]!, 1e-5, 1e-5 * scale);
  counts.close += n;
}

test('LowRank: with and without inv_smooth, rank 32 and 16', async () => {
  await checkLowRank('rank 32, inv_smooth', [197], 128, 32, 72, true, 21);
  await checkLowRank('rank 16, [3, 5, 96]', [3, 5], 96, 16, 130, false, 22);
});

// ---- the chain ----

function chain(format: Quant4Format, lead: number[], K: number, N: number, R: number, seed: number, opts: { onehot?: boolean } = {}) {
  const group = format === 'nvfp4' ? 16 : 64;
  const Kp = paddedK(K, group);
  let qw: { q: Uint8Array; s: ArrayLike<number>; weightScale: number };
  if (opts.onehot) {
    // W[n, k] = code 1 where k = n: Y[m, n] = (q_x[m, n] · sx) · 1, every code and scale visible.
    const codes = new Uint8Array(N * Kp);
    for (let n = 0; n < N; n++) codes[n * Kp + n] = format === 'nvfp4' ? 2 : 1; // nvfp4: E2M1 1.0
    const q = new Uint8Array((N * Kp) / 2);
    packNibbles(codes, q);
    const s = format === 'nvfp4' ? new Uint8Array((N * Kp) / group).fill(0x38) : new Float32Array((N * Kp) / group).fill(1); // E4M3 1.0
    qw = { q, s, weightScale: 1 };
  } else {
    qw = quantizeWeight(Float32Array.from(randomValues(K * N, seed + 1)), K, N, format, group);
  }
  const rows = lead.reduce((a, b) => a * b, 1);
  const x = opts.onehot ? f32([...lead, K], edgeRows(K, format, true, rows, seed)) : rand([...lead, K], seed, -2, 2);
  const ops: Operand[] = [
    { t: x },
    { t: rand([K], seed + 2, 0.5, 2), c: true },
    { t: makeTensor('u8', [N, Kp / 2], qw.q), c: true },
    { t: format === 'int4' ? f16([N, Kp / group], qw.s) : makeTensor('u8', [N, Kp / group], Uint8Array.from(qw.s)), c: true },
    { t: rand([N], seed + 3), c: true },
    { t: f16([K, R], randomValues(K * R, seed + 4, -0.2, 0.2)), c: true },
    { t: f16([R, N], randomValues(R * N, seed + 5, -0.2, 0.2)), c: true },
  ];
  const attrs: Record<string, AttrInput> = { format, group, signed: 1, ...(format === 'nvfp4' ? { weight_scale: qw.weightScale } : {}) };
  return model(ops, (b, [xn, inv, w, sw, bias, l1, l2]) => {
    const [q, s] = lathe(b, 'Quantize4', [xn!, inv!], { format, group, signed: 1 }, 2);
    const y4 = lathe(b, 'Linear4', [q!, s!, w!, sw!, opts.onehot ? null : bias!], attrs)[0]!;
    if (opts.onehot) return [y4];
    const lr = lathe(b, 'LowRank', [xn!, l1!, l2!, inv!], {})[0]!;
    return [b.op('Add', [y4, lr])];
  });
}

test('chain Quantize4 → Linear4 + LowRank → Add on packed codes, int4 and nvfp4, K whole and padded', async () => {
  for (const [format, K] of [['int4', 100], ['nvfp4', 128]] as const) {
    const c = chain(format, [3, 67], K, 96, 32, 31);
    // The codes between the kernels are packed: QX, QW (and nvfp4's SW) four bytes to a word.
    const gpu = await openValidationGpu();
    const p = lowerModel(specialize(c.model, { inputShapes: c.inputs.map((t) => t.shape) }), { caps: gpu.caps });
    const u8s = [...p.values.values()].filter((v) => v.dtype === 'u8');
    assert.is(u8s.length, format === 'nvfp4' ? 3 : 2, `${format}, K ${K}: u8 values`);
    for (const v of u8s) {
      assert.is(v.elem, 'u32', `${v.name} packed`);
      assert.is(v.bytes, Math.ceil(v.shape.reduce((a, b) => a * b, 1) / 4) * 4, `${v.name} bytes`);
    }
    const r = await both(c);
    if (!r) continue;
    counts.close += close(`chain ${format}, K ${K}`, r.got[0]!, r.want[0]!, 1e-5, 1e-5)[0];
  }
});

test('chain with one-hot weights: packed Quantize4 codes and scales bit for bit through Linear4', async () => {
  for (const format of ['int4', 'nvfp4'] as const) {
    const c = chain(format, [40], 128, 128, 16, 41, { onehot: true });
    const r = await both(c);
    if (!r) continue;
    counts.onehot += exact(`one-hot chain ${format}`, r.got[0]!, r.want[0]!);
  }
});

test('kernels validate with small-device limits (128 invocations, 8 KiB workgroup memory)', async () => {
  const gpu = await openValidationGpu();
  const caps = { ...gpu.caps, f16: false, maxWorkgroupInvocations: 128, maxWorkgroupStorageBytes: 8192 };
  for (const format of ['int4', 'nvfp4'] as const) {
    const c = chain(format, [5, 33], 256, 70, 16, 51);
    const p = lowerModel(specialize(c.model, { inputShapes: c.inputs.map((t) => t.shape) }), { caps });
    assert.ok(p.kernels.length >= 4);
    await validateKernels(gpu, p.kernels);
  }
});

test('the generated host module (lathe compile) runs the chain: packed weights in the safetensors file', async () => {
  const gpu = await adapterOrSkip();
  if (!gpu) return;
  const dir = scratchDir('svdquant-host-');
  // nvfp4: both QW and SW are packed u32 words in the file (and L1, L2 f32, as f16 is not asked for).
  for (const format of ['nvfp4'] as const) {
    const c = chain(format, [2, 37], 128, 72, 16, 61);
    const a = compileWgsl(c.model, { inputShapes: c.inputs.map((t) => t.shape) });
    const sub = path.join(dir, format);
    mkdirSync(sub, { recursive: true });
    writeWgslArtifacts(a, sub);
    const host = await importHost(path.join(sub, 'model.ts'));
    const compiled = await host.createModel(gpu.device, readFileSync(path.join(sub, 'weights.safetensors')));
    const got = await compiled.run({ in0: hostInput(c.inputs[0]!) });
    compiled.destroy();
    const want = interp(c.model, c.inputs)[0]!;
    const y = got[a.manifest.outputs[0]!.name] as Float32Array;
    counts.close += close(`host chain ${format}`, makeTensor('f32', want.shape, Float32Array.from(y)), want, 1e-5, 1e-5)[0];
  }
});

test('report', () => {
  console.log(
    `  svdquant: bit for bit: ${counts.quantize} Quantize4 codes and scales, ${counts.linear} Linear4 outputs, ${counts.onehot} one-hot chain outputs; within tolerance: ${counts.close} LowRank and chain outputs`,
  );
});

test.run();
