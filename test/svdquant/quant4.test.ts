// The 4-bit quantization of docs/svdquant.md (ir/quant4.ts) and the interpreter's SVDQuant ops:
// the codes against ONNX's own float formats, the layouts by hand, and Linear4 against a plain
// product of the dequantized operands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import { LATHE_DOMAIN } from '../../ir/graph.ts';
import { FORMATS, roundToFormat } from '../../ir/interp/float.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { fromConst, makeTensor, tensorFrom, toConst } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import type { ActQuantSpec } from '../../ir/quant4.ts';
import { dequantizeActivations, e2m1Code, e2m1Value, e4m3Code, e4m3Value, linear4, quantizeActivations, quantizeWeight, weightGroupScale } from '../../ir/quant4.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('E2M1 codes are the nearest value with ties to even, as ONNX float4e2m1 rounds', () => {
  const f4 = FORMATS.f4e2m1!;
  for (let i = -700; i <= 700; i++) {
    const v = i / 100;
    assert.is(e2m1Value(e2m1Code(v)), roundToFormat(v, f4) || 0, `v = ${v}`);
  }
  for (const tie of [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5]) assert.is(e2m1Value(e2m1Code(tie)), roundToFormat(tie, f4), `tie ${tie}`);
  assert.is(e2m1Code(-0.1), 0, 'zero is coded +0');
});

test('E4M3 codes round to nearest even, keep subnormals and saturate at 448', () => {
  const f8 = FORMATS.f8e4m3fn!;
  const r = rng(3);
  for (let i = 0; i < 5000; i++) {
    const v = Math.fround(2 ** (r() * 24 - 12));
    assert.is(e4m3Value(e4m3Code(v)), roundToFormat(v, f8, true), `v = ${v}`);
  }
  assert.is(e4m3Value(e4m3Code(1e6)), 448);
  assert.is(e4m3Value(e4m3Code(2 ** -9)), 2 ** -9);
  assert.is(e4m3Value(e4m3Code(2 ** -11)), 0);
  for (let c = 0; c < 127; c++) assert.is(e4m3Code(e4m3Value(c)), c, `code ${c} round-trips`);
});

test('INT4 activations: scale absmax/7, codes packed low nibble first; unsigned uses 0…15', () => {
  const x = new Float32Array(16);
  for (let i = 0; i < 16; i++) x[i] = i - 7; // −7 … 8
  const signed = quantizeActivations(x, 1, 16, { format: 'int4', group: 8, signed: true });
  assert.equal([...signed.s], [Math.fround(7 / 7), Math.fround(8 / 7)]);
  // group 0: codes −7…0 → nibbles 9…15, 0; byte 0 = 9 | 10 << 4
  assert.is(signed.q[0], 9 | (10 << 4));
  const dq = dequantizeActivations(signed.q, signed.s, 1, 16, { format: 'int4', group: 8, signed: true });
  for (let i = 0; i < 8; i++) assert.is(dq[i], x[i]);
  const pos = Float32Array.from({ length: 8 }, (_, i) => i * 2);
  const u = quantizeActivations(pos, 1, 8, { format: 'int4', group: 8, signed: false });
  assert.is(u.s[0], Math.fround(14 / 15));
  assert.is(u.q[3] >> 4, 15, 'the largest value codes 15');
  const zero = quantizeActivations(new Float32Array(8), 1, 8, { format: 'int4', group: 8, signed: true });
  assert.equal([...zero.q, ...zero.s], [0, 0, 0, 0, 0]);
});

test('INT4 rounds ties to even, as the kernels\' rint/round do', () => {
  const x = Float32Array.from([7, 3.5, -3.5, 2.5, -2.5, 0.5, -0.5, 1.5]);
  const { q, s } = quantizeActivations(x, 1, 8, { format: 'int4', group: 8, signed: true });
  assert.is(s[0], 1);
  const codes = [...q].flatMap((b) => [b & 15, b >> 4]).map((n) => (n & 8 ? n - 16 : n));
  assert.equal(codes, [7, 4, -4, 2, -2, 0, 0, 2]);
});

test('NVFP4 activations: E4M3 scale of absmax/6, E2M1 codes', () => {
  const x = Float32Array.from({ length: 16 }, (_, i) => (i - 8) * 0.37);
  const { q, s } = quantizeActivations(x, 1, 16, { format: 'nvfp4', group: 16, signed: true });
  const want = e4m3Value(e4m3Code(Math.fround(Math.fround(8 * 0.37) / 6)));
  assert.is(s[0], want);
  for (let k = 0; k < 16; k++) {
    const nib = (q[k >> 1]! >> ((k & 1) * 4)) & 15;
    assert.is(nib, e2m1Code(Math.fround(x[k]! / want)), `k = ${k}`);
  }
});

test('Linear4 equals the product of the dequantized operands (exact group sums)', () => {
  const r = rng(11);
  for (const spec of [{ format: 'int4', group: 32, signed: true }, { format: 'int4', group: 32, signed: false }, { format: 'nvfp4', group: 16, signed: true }] as ActQuantSpec[]) {
    const [M, K, N] = [5, 64, 7];
    const x = Float32Array.from({ length: M * K }, () => (spec.signed ? r() - 0.5 : r()) * 4);
    const w = Float32Array.from({ length: K * N }, () => (r() - 0.5) * 2);
    const { q, s } = quantizeActivations(x, M, K, spec);
    const wd = new Float32Array(K * N);
    const qw = quantizeWeight(w, K, N, spec.format, spec.group, wd);
    const xd = dequantizeActivations(q, s, M, K, spec);
    const y = linear4({ qx: q, sx: s, qw: qw.q, sw: qw.s, weightScale: qw.weightScale }, M, K, N, spec);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let ref = 0;
        for (let k = 0; k < K; k++) ref += xd[m * K + k]! * wd[k * N + n]!;
        assert.ok(Math.abs(y[m * N + n]! - ref) <= 1e-5 * (Math.abs(ref) + 1), `${spec.format} y[${m},${n}] = ${y[m * N + n]} vs ${ref}`);
      }
    }
    // The group scale a weight group multiplies by is what dequantization used.
    const g0 = weightGroupScale(qw, spec.format, 0);
    assert.ok(g0 > 0);
  }
});

test('the ops run in the interpreter: Quantize4 → Linear4 + LowRank → Add', () => {
  const r = rng(5);
  const [B, S, K, N, R] = [2, 3, 64, 6, 4];
  const b = new GraphBuilder('g', { '': 17, [LATHE_DOMAIN]: 1 });
  const x = b.input('x', tensor('f32', [B, S, K]));
  const inv = b.constant('inv', constTensor('f32', [K], Array.from({ length: K }, () => 0.5 + r())));
  const wq = quantizeWeight(Float32Array.from({ length: K * N }, () => r() - 0.5), K, N, 'int4', 64);
  b.constant('qw', constTensor('u8', [N, K / 2], [...wq.q]));
  b.constant('sw', toConst(tensorFrom('f16', [N, 1], [...wq.s])));
  b.constant('bias', constTensor('f32', [N], Array.from({ length: N }, (_, i) => i)));
  b.constant('l1', toConst(tensorFrom('f16', [K, R], Array.from({ length: K * R }, () => r() - 0.5))));
  b.constant('l2', toConst(tensorFrom('f16', [R, N], Array.from({ length: R * N }, () => r() - 0.5))));
  const [qx, sx] = b.opN('Quantize4', [x, inv], { format: 'int4', group: 64 }, { domain: LATHE_DOMAIN, results: 2 });
  const y4 = b.op('Linear4', [qx!, sx!, 'qw', 'sw', 'bias'], { format: 'int4', group: 64 }, { domain: LATHE_DOMAIN });
  const lr = b.op('LowRank', [x, 'l1', 'l2', inv], {}, { domain: LATHE_DOMAIN });
  const y = b.op('Add', [y4, lr]);
  const model = b.returns(y).model();
  const xv = makeTensor('f32', [B, S, K], Float32Array.from({ length: B * S * K }, () => r() * 2 - 1));
  const [out] = runModel(model, [xv]) as Tensor[];
  assert.equal(out!.shape, [B, S, N]);
  // The same by hand: the Linear4 part exactly, the low-rank part in f64.
  const constant = (name: string) => fromConst(model.graph.constants.find((c) => c.name === name)!.tensor).data as Float32Array;
  const [invS, l1, l2] = [constant('inv'), constant('l1'), constant('l2')];
  const spec: ActQuantSpec = { format: 'int4', group: 64, signed: true };
  const xd = xv.data as Float32Array;
  const qa = quantizeActivations(xd, B * S, K, spec, invS);
  const y4ref = linear4({ qx: qa.q, sx: qa.s, qw: wq.q, sw: wq.s, bias: [0, 1, 2, 3, 4, 5], weightScale: 1 }, B * S, K, N, spec);
  for (let m = 0; m < B * S; m++) {
    const t = Array.from({ length: R }, (_, j) => {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += Math.fround(xd[m * K + k]! * invS[k]!) * l1[k * R + j]!;
      return acc;
    });
    for (let n = 0; n < N; n++) {
      let lr = 0;
      for (let j = 0; j < R; j++) lr += t[j]! * l2[j * N + n]!;
      const got = (out!.data as Float32Array)[m * N + n]!;
      assert.ok(Math.abs(got - (y4ref[m * N + n]! + lr)) <= 1e-5 * (1 + Math.abs(got)), `y[${m},${n}] = ${got} vs ${y4ref[m * N + n]! + lr}`);
    }
  }
});

test('K pads to whole groups with zeros: the codes of a short row are those of the row padded', () => {
  const r = rng(9);
  const x = Float32Array.from({ length: 3 * 40 }, () => r() - 0.5);
  const padded = new Float32Array(3 * 64);
  for (let i = 0; i < 3; i++) padded.set(x.subarray(i * 40, (i + 1) * 40), i * 64);
  const spec: ActQuantSpec = { format: 'int4', group: 64, signed: true };
  const a = quantizeActivations(x, 3, 40, spec);
  const b = quantizeActivations(padded, 3, 64, spec);
  assert.equal([...a.q], [...b.q]);
  assert.equal([...a.s], [...b.s]);
  const w = Float32Array.from({ length: 40 * 5 }, () => r() - 0.5);
  const wp = new Float32Array(64 * 5);
  wp.set(w);
  assert.equal([...quantizeWeight(w, 40, 5, 'int4', 64).q], [...quantizeWeight(wp, 64, 5, 'int4', 64).q]);
  const g = new GraphBuilder('g', { '': 17, [LATHE_DOMAIN]: 1 });
  const xi = g.input('x', tensor('f32', [2, 40]));
  const [qx, sx] = g.opN('Quantize4', [xi], { format: 'int4', group: 64 }, { domain: LATHE_DOMAIN, results: 2 });
  const graph = g.returns(qx!, sx!).graph();
  const types = graph.nodes[0]!.outputs.map((o) => o!.type);
  assert.equal(types, [tensor('u8', [2, 32]), tensor('f32', [2, 1])]);
});

test('bad operands are refused by name', () => {
  const c = new GraphBuilder('g', { '': 17, [LATHE_DOMAIN]: 1 });
  const y = c.input('x', tensor('f32', [2, 64]));
  c.opN('Quantize4', [y], { format: 'nvfp4', group: 64 }, { domain: LATHE_DOMAIN, results: 2 });
  assert.throws(() => c.graph(), /groups of 16/);
  const d = new GraphBuilder('g', { '': 17, [LATHE_DOMAIN]: 1 });
  const z = d.input('x', tensor('f32', [2, 64]));
  d.opN('Quantize4', [z], { format: 'int4', group: 12 }, { domain: LATHE_DOMAIN, results: 2 });
  assert.throws(() => d.graph(), /multiple of 8/);
});

test.run();
