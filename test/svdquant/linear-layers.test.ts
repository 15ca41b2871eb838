// svdquant's linear-layer matcher (passes/svdquant/linear-layers.ts): which MatMul/Gemm/Conv
// nodes are layers, their K/N/bias/attributes, the near misses with reasons, the weight matrix
// in [K, N] layout, and the non-negative-input analysis.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import { isTensor, tensorFrom } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { constTensor, fromBytes } from '../../ir/tensor-data.ts';
import { fromConst, toBytes } from '../../ir/interp/tensor.ts';
import { tensor } from '../../ir/types.ts';
import { findLinearLayers, weightMatrix } from '../../passes/svdquant/linear-layers.ts';
import type { LinearLayer } from '../../passes/svdquant/linear-layers.ts';

const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** W1 [4, 5], WG [3, 5] (transB), WC [4, 3, 1, 1], … with distinct, exactly representable values. */
export function layerModel(): Model {
  const b = new GraphBuilder('layers');
  const x = b.input('x', tensor('f32', [6, 4]));
  const img = b.input('img', tensor('f32', [2, 3, 2, 2]));
  const w1 = b.constant('w1', constTensor('f32', [4, 5], seq(20, (i) => (i - 7) / 8)));
  const wg = b.constant('wg', constTensor('f32', [3, 5], seq(15, (i) => (i % 4) - 1.5)));
  const bg = b.constant('bg', constTensor('f32', [3], [0.5, -1, 2]));
  const wc = b.constant('wc', constTensor('f32', [4, 3, 1, 1], seq(12, (i) => (i - 5) / 4)));
  const bc = b.constant('bc', constTensor('f32', [4], [1, 2, 3, 4]));
  const ws = b.constant('ws', constTensor('f32', [4, 3, 1, 1], seq(12, (i) => i / 2)));
  const w3 = b.constant('w3', constTensor('f32', [4, 4, 3, 3], seq(144, (i) => (i % 7) - 3)));
  const wt = b.constant('wt', constTensor('f32', [6, 2], seq(12, (i) => i - 6)));

  const m1 = b.op('MatMul', [x, w1], {}, { name: 'mm1' }); // [6, 5]
  const r = b.op('Relu', [m1], {}, { name: 'relu' });
  const g = b.op('Gemm', [r, wg, bg], { transB: 1, alpha: 0.5, beta: 2 }, { name: 'gemm' }); // [6, 3]
  const xt = b.op('Transpose', [x], { perm: [1, 0] }, { name: 'xt' }); // [4, 6]
  const qk = b.op('MatMul', [x, xt], {}, { name: 'qk' }); // not a layer: weight not constant
  const s = b.op('Sigmoid', [qk], {}, { name: 'sig' }); // [6, 6]
  const sr = b.op('Reshape', [s, b.constant('shp', constTensor('i64', [2], [6, 6]))], {}, { name: 'reshape' });
  const wk = b.op('Constant', [], { value: { kind: 'tensor', value: constTensor('f32', [6, 2], seq(12, (i) => (i % 5) - 2)) } }, { name: 'wk_const' });
  const m2 = b.op('MatMul', [sr, wk], {}, { name: 'mm2' }); // Constant-node weight, non-negative input
  const gta = b.op('Gemm', [x, wt], { transA: 1 }, { name: 'gemm_ta' }); // skipped: transA
  const c1 = b.op('Conv', [img, wc, bc], {}, { name: 'conv1' }); // [2, 4, 2, 2]
  const c2 = b.op('Conv', [img, ws], { strides: [2, 2] }, { name: 'conv_s2' }); // skipped: strides
  const c3 = b.op('Conv', [c1, w3], { pads: [1, 1, 1, 1] }, { name: 'conv3x3' }); // skipped: kernel
  return b.returns(g, m2, gta, c2, c3).model();
}

const byNode = (ls: readonly LinearLayer[]) => new Map(ls.map((l) => [l.node, l]));

test('finds MatMul, Gemm (transB, bias) and 1×1 Conv layers with K, N and attributes', () => {
  const m = layerModel();
  const layers = findLinearLayers(m);
  assert.equal(layers.map((l) => l.node), ['mm1', 'gemm', 'mm2', 'conv1']);
  const L = byNode(layers);
  const mm1 = L.get('mm1')!;
  assert.equal({ kind: mm1.kind, x: mm1.x, weight: mm1.weight, K: mm1.K, N: mm1.N, bias: mm1.bias, nn: mm1.nonNegativeInput }, { kind: 'matmul', x: 'x', weight: 'w1', K: 4, N: 5, bias: undefined, nn: false });
  const g = L.get('gemm')!;
  assert.equal({ kind: g.kind, weight: g.weight, K: g.K, N: g.N, bias: g.bias, gemm: g.gemm }, { kind: 'gemm', weight: 'wg', K: 5, N: 3, bias: 'bg', gemm: { alpha: 0.5, beta: 2, transB: true } });
  assert.is(g.x, m.graph.nodes.find((n) => n.name === 'relu')!.outputs[0]!.name);
  const mm2 = L.get('mm2')!;
  assert.is(mm2.weight, m.graph.nodes.find((n) => n.name === 'wk_const')!.outputs[0]!.name);
  assert.equal([mm2.K, mm2.N], [6, 2]);
  const c = L.get('conv1')!;
  assert.equal({ kind: c.kind, x: c.x, weight: c.weight, K: c.K, N: c.N, bias: c.bias }, { kind: 'conv1x1', x: 'img', weight: 'wc', K: 3, N: 4, bias: 'bc' });
  assert.ok(layers.every((l) => l.dtype === 'f32'));
  // The Q·Kᵀ-like MatMul has no constant weight: neither a layer nor a near miss.
  assert.not.ok(layers.some((l) => l.node === 'qk'));
  assert.not.ok(layers.skipped.some((s) => s.node === 'qk'));
});

test('near misses are skipped with a reason', () => {
  const skipped = new Map(findLinearLayers(layerModel()).skipped.map((s) => [s.node, s]));
  assert.equal([...skipped.keys()].sort(), ['conv3x3', 'conv_s2', 'gemm_ta']);
  assert.match(skipped.get('conv_s2')!.reason, /strides \[2, 2\]/);
  assert.match(skipped.get('conv3x3')!.reason, /3×3, not 1×1/);
  assert.match(skipped.get('gemm_ta')!.reason, /transA/);
  assert.is(skipped.get('gemm_ta')!.op, 'Gemm');
});

test('nonNegativeInput: after Relu, and after Sigmoid through a Reshape', () => {
  const L = byNode(findLinearLayers(layerModel()));
  assert.is(L.get('gemm')!.nonNegativeInput, true);
  assert.is(L.get('mm2')!.nonNegativeInput, true);
  assert.is(L.get('mm1')!.nonNegativeInput, false);
  assert.is(L.get('conv1')!.nonNegativeInput, false);
});

test('weightMatrix is W as [K, N] (transB and conv transposed, alpha folded in)', () => {
  const m = layerModel();
  const L = byNode(findLinearLayers(m));
  assert.equal(Array.from(weightMatrix(m, L.get('mm1')!)), seq(20, (i) => (i - 7) / 8));
  const wg = seq(15, (i) => (i % 4) - 1.5); // [N=3, K=5]
  const G = weightMatrix(m, L.get('gemm')!);
  for (let k = 0; k < 5; k++) for (let n = 0; n < 3; n++) assert.is(G[k * 3 + n], 0.5 * wg[n * 5 + k]!, `gemm W[${k}, ${n}]`);
  const wc = seq(12, (i) => (i - 5) / 4); // [N=4, K=3]
  const C = weightMatrix(m, L.get('conv1')!);
  for (let k = 0; k < 3; k++) for (let n = 0; n < 4; n++) assert.is(C[k * 4 + n], wc[n * 3 + k]!, `conv W[${k}, ${n}]`);
  assert.equal(Array.from(weightMatrix(m, L.get('mm2')!)), seq(12, (i) => (i % 5) - 2));
});

test('X·weightMatrix (+ bias) reproduces each layer output on the interpreter', () => {
  const m = layerModel();
  const layers = findLinearLayers(m);
  const xs = tensorFrom('f32', [6, 4], seq(24, (i) => Math.sin(i)));
  const img = tensorFrom('f32', [2, 3, 2, 2], seq(24, (i) => Math.cos(i)));
  const values = new Map<string, Tensor>([['x', xs], ['img', img]]);
  runModel(m, new Map([['x', xs], ['img', img]]), {
    onNode: (_n, results, depth) => {
      if (depth === 0) _n.outputs.forEach((o, j) => o && isTensor(results[j]) && values.set(o.name, results[j] as Tensor));
    },
  });
  const bias = (name: string | undefined) => (name ? (m.graph.constants.find((c) => c.name === name)!) : undefined);
  for (const l of layers) {
    const W = weightMatrix(m, l);
    const X = values.get(l.x)!.data as Float32Array;
    const Y = values.get(l.output)!.data as Float32Array;
    const bc = bias(l.bias);
    const bv = bc ? (fromConst(bc.tensor).data as Float32Array) : undefined;
    const beta = l.gemm?.beta ?? 1;
    const S = l.kind === 'conv1x1' ? 4 : 1; // spatial positions per image
    const tokens = X.length / l.K;
    for (let t = 0; t < tokens; t++) {
      const img0 = Math.floor(t / S);
      const s = t % S;
      const xat = (k: number) => (l.kind === 'conv1x1' ? X[(img0 * l.K + k) * S + s]! : X[t * l.K + k]!);
      for (let n = 0; n < l.N; n++) {
        let acc = 0;
        for (let k = 0; k < l.K; k++) acc += xat(k) * W[k * l.N + n]!;
        if (bv) acc += beta * bv[n]!;
        const y = l.kind === 'conv1x1' ? Y[(img0 * l.N + n) * S + s]! : Y[t * l.N + n]!;
        assert.ok(Math.abs(acc - y) <= 1e-5 * Math.max(1, Math.abs(y)), `${l.node}: token ${t}, out ${n}: ${acc} vs ${y}`);
      }
    }
  }
});

test('f16 weights are layers; integer weights, 3-D weights and row-varying Gemm C are skipped', () => {
  const b = new GraphBuilder('misc');
  const x = b.input('x', tensor('f16', [3, 4]));
  const xf = b.input('xf', tensor('f32', [2, 3, 4]));
  const xi = b.input('xi', tensor('i32', [3, 4]));
  const h = tensorFrom('f16', [4, 2], [0.5, 1, -2, 0.25, 3, -1, 1.5, 2]);
  const w16 = b.constant('w16', fromBytes('f16', [4, 2], toBytes(h)));
  const wi = b.constant('wi', constTensor('i32', [4, 2], seq(8, (i) => i)));
  const w3d = b.constant('w3d', constTensor('f32', [2, 4, 5], seq(40, (i) => i)));
  const wg = b.constant('wg', constTensor('f32', [4, 2], seq(8, (i) => i)));
  const cRow = b.constant('crow', constTensor('f32', [6, 1], [1, 2, 3, 4, 5, 6]));
  const cScalar = b.constant('cs', constTensor('f32', [], [1]));
  const y1 = b.op('MatMul', [x, w16], {}, { name: 'half' });
  const y2 = b.op('MatMul', [xi, wi], {}, { name: 'int' });
  const y3 = b.op('MatMul', [xf, w3d], {}, { name: 'batched_w' });
  const xf2 = b.op('Reshape', [xf, b.constant('s', constTensor('i64', [2], [6, 4]))]);
  const y4 = b.op('Gemm', [xf2, wg, cRow], {}, { name: 'gemm_rowc' });
  const y5 = b.op('Gemm', [xf2, wg, cScalar], {}, { name: 'gemm_scalar_c' });
  const y6 = b.op('MatMul', [xf, wg], {}, { name: 'rank3_x' });
  const m = b.returns(y1, y2, y3, y4, y5, y6).model();
  const layers = findLinearLayers(m);
  assert.equal(layers.map((l) => l.node), ['half', 'gemm_scalar_c', 'rank3_x']);
  assert.is(layers[0]!.dtype, 'f16');
  assert.equal(Array.from(weightMatrix(m, layers[0]!)), [0.5, 1, -2, 0.25, 3, -1, 1.5, 2]);
  assert.is(layers[1]!.bias, 'cs');
  assert.equal([layers[2]!.K, layers[2]!.N], [4, 2]);
  const why = new Map(layers.skipped.map((s) => [s.node, s.reason]));
  assert.match(why.get('int')!, /i32/);
  assert.match(why.get('batched_w')!, /\[2, 4, 5\]/);
  assert.match(why.get('gemm_rowc')!, /C has shape \[6, 1\]/);
});

test.run();
