// lathe.Attention itself: shape inference (symbolic dims, GQA, masks, errors) and the reference
// evaluator against the same computation spelled with ONNX ops (MatMul, Mul, Add, Softmax,
// MatMul) run by the interpreter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../../compiler/random-inputs.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { DType } from '../../ir/dtype.ts';
import { LatheError } from '../../ir/errors.ts';
import { LATHE_DOMAIN } from '../../ir/graph.ts';
import { attentionRef } from '../../ir/interp/ops/attention.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { tensorFrom, toConst } from '../../ir/interp/tensor.ts';
import type { Dim, ValueType } from '../../ir/types.ts';
import { tensor, typeToString } from '../../ir/types.ts';

/** The type lathe.Attention infers for these operand types and attributes. */
function inferred(types: ValueType[], attrs: Record<string, number>): string {
  const b = new GraphBuilder('g');
  const names = types.map((t, i) => b.input(`x${i}`, t));
  const y = b.op('Attention', names, attrs, { domain: LATHE_DOMAIN });
  const m = b.returns(y).model();
  return typeToString(m.graph.nodes[0]!.outputs[0]!.type);
}

const t = (dtype: DType, ...shape: Dim[]) => tensor(dtype, shape);

test('infers [batch, heads, seq_q, v_dim] with symbolic dims', () => {
  const q = t('f32', 'batch', 8, 'seq', 64);
  const k = t('f32', 'batch', 8, 'past', 64);
  const v = t('f32', 'batch', 8, 'past', 32);
  assert.is(inferred([q, k, v], { num_heads: 8, head_dim: 64 }), 'f32[batch, 8, seq, 32]');
  // Unknown dims take the known ones from the other operands and the attributes.
  assert.is(inferred([t('f16', null, null, 5, null), t('f16', 2, 8, 7, 64), t('f16', null, 8, 7, 64)], { num_heads: 8, head_dim: 64 }), 'f16[2, 8, 5, 64]');
});

test('grouped-query attention: K/V heads divide Q heads', () => {
  const q = t('f32', 1, 8, 4, 16);
  const kv = t('f32', 1, 2, 6, 16);
  assert.is(inferred([q, kv, kv], { num_heads: 8, kv_num_heads: 2, head_dim: 16 }), 'f32[1, 8, 4, 16]');
  assert.throws(() => inferred([q, kv, kv], { num_heads: 8, head_dim: 16 }), /K's heads .* differ: 2 vs 8/);
  assert.throws(() => inferred([t('f32', 1, 6, 4, 16), t('f32', 1, 4, 6, 16), t('f32', 1, 4, 6, 16)], { num_heads: 6, kv_num_heads: 4, head_dim: 16 }), /not a multiple/);
});

test('masks: bool or the dtype, broadcastable to [batch, heads, seq_q, seq_k]', () => {
  const q = t('f32', 2, 4, 5, 16);
  const kv = t('f32', 2, 4, 7, 16);
  const a = { num_heads: 4, head_dim: 16 };
  assert.is(inferred([q, kv, kv, t('bool', 2, 1, 1, 7)], a), 'f32[2, 4, 5, 16]');
  assert.is(inferred([q, kv, kv, t('f32', 5, 7)], a), 'f32[2, 4, 5, 16]');
  assert.throws(() => inferred([q, kv, kv, t('f32', 5, 6)], a), /does not broadcast/);
  assert.throws(() => inferred([q, kv, kv, t('i64', 5, 7)], a), /mask must be bool or f32/);
  assert.throws(() => inferred([q, kv, kv, t('f32', 1, 2, 4, 5, 7)], a), /more than 4 axes/);
});

test('clear errors for wrong operands and attributes', () => {
  const q = t('f32', 2, 4, 5, 16);
  const kv = t('f32', 2, 4, 7, 16);
  const err = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof LatheError, String(e));
      return e.message;
    }
    assert.unreachable('no error');
    return '';
  };
  assert.match(err(() => inferred([q, kv, kv], { num_heads: 4, head_dim: 8 })), /head dim .* differ: 16 vs 8/);
  assert.match(err(() => inferred([q, t('f16', 2, 4, 7, 16), kv], { num_heads: 4, head_dim: 16 })), /K has dtype f16 but Q has f32/);
  assert.match(err(() => inferred([t('f32', 2, 5, 16), kv, kv], { num_heads: 4, head_dim: 16 })), /Q must have rank 4/);
  assert.match(err(() => inferred([q, kv, kv], { num_heads: 4, head_dim: 16, causal: 2 })), /'causal' must be 0 or 1/);
  assert.match(err(() => inferred([q, t('f32', 3, 4, 7, 16), kv], { num_heads: 4, head_dim: 16 })), /batch dims .* differ: 2 vs 3/);
  assert.match(err(() => inferred([q, kv, t('f32', 2, 4, 6, 16)], { num_heads: 4, head_dim: 16 })), /key lengths .* differ: 7 vs 6/);
  assert.match(err(() => inferred([t('i32', 2, 4, 5, 16), kv, kv], { num_heads: 4, head_dim: 16 })), /the op takes f64, f32, f16, bf16/);
});

// ---- the evaluator ----

function randn(next: () => number, dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next()));
  return tensorFrom(dtype, shape, v);
}

/** Attention spelled in ONNX ops (K/V heads repeated by a Gather for GQA), run by the interpreter. */
function viaOnnx(q: Tensor, k: Tensor, v: Tensor, scale: number, bias?: Tensor): Tensor {
  const [, H] = q.shape;
  const Hk = k.shape[1]!;
  const b = new GraphBuilder('ref');
  const [qn, kn, vn] = [b.input('q', tensor(q.dtype, q.shape)), b.input('k', tensor(k.dtype, k.shape)), b.input('v', tensor(v.dtype, v.shape))];
  let [kk, vv] = [kn, vn];
  if (Hk !== H) {
    const idx = b.constant('idx', toConst(tensorFrom('i64', [H!], Array.from({ length: H! }, (_, h) => Math.floor(h / (H! / Hk))))));
    kk = b.op('Gather', [kn, idx], { axis: 1 });
    vv = b.op('Gather', [vn, idx], { axis: 1 });
  }
  const s = b.constant('s', toConst(tensorFrom(q.dtype, [], [scale])));
  let scores = b.op('Mul', [b.op('MatMul', [qn, b.op('Transpose', [kk], { perm: [0, 1, 3, 2] })]), s]);
  if (bias) scores = b.op('Add', [scores, b.constant('bias', toConst(bias))]);
  const y = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), vv]);
  return runModel(b.returns(y).model(), [q, k, v])[0] as Tensor;
}

function maxRel(a: Tensor, b: Tensor): number {
  assert.equal(a.shape, b.shape);
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.data.length; i++) {
    d = Math.max(d, Math.abs(Number(a.data[i]) - Number(b.data[i])));
    m = Math.max(m, Math.abs(Number(b.data[i])));
  }
  return d / m;
}

test('evaluator = the ONNX composition: plain, GQA, additive and bool masks', () => {
  const next = rng(7);
  const q = randn(next, 'f32', [2, 4, 5, 8]);
  const k = randn(next, 'f32', [2, 4, 6, 8]);
  const v = randn(next, 'f32', [2, 4, 6, 3]);
  const p = { numHeads: 4, kvNumHeads: 4, scale: 0.35, causal: false };
  assert.ok(maxRel(attentionRef(q, k, v, undefined, p), viaOnnx(q, k, v, 0.35)) < 1e-6);

  const kg = randn(next, 'f32', [2, 2, 6, 8]);
  const vg = randn(next, 'f32', [2, 2, 6, 3]);
  assert.ok(maxRel(attentionRef(q, kg, vg, undefined, { ...p, kvNumHeads: 2 }), viaOnnx(q, kg, vg, 0.35)) < 1e-6);

  const bias = randn(next, 'f32', [2, 1, 1, 6]);
  assert.ok(maxRel(attentionRef(q, k, v, bias, p), viaOnnx(q, k, v, 0.35, bias)) < 1e-6);

  // A bool mask keeps where true: the same as adding 0 / −inf.
  const keep = tensorFrom('bool', [5, 6], Array.from({ length: 30 }, (_, i) => (i % 6 === 5 || i % 4 === 1 ? 0 : 1)));
  const asBias = tensorFrom('f32', [5, 6], Array.from(keep.data as Uint8Array, (x) => (x ? 0 : -Infinity)));
  assert.ok(maxRel(attentionRef(q, k, v, keep, p), viaOnnx(q, k, v, 0.35, asBias)) < 1e-6);
});

test('causal is aligned to the bottom right (seq_q ≤ seq_k: the last query sees every key)', () => {
  const next = rng(11);
  const q = randn(next, 'f32', [1, 2, 3, 4]);
  const k = randn(next, 'f32', [1, 2, 5, 4]);
  const v = randn(next, 'f32', [1, 2, 5, 4]);
  // Query i sees keys j ≤ i + (5 − 3).
  const bias = tensorFrom('f32', [3, 5], Array.from({ length: 15 }, (_, x) => (x % 5 <= Math.floor(x / 5) + 2 ? 0 : -Infinity)));
  const got = attentionRef(q, k, v, undefined, { numHeads: 2, kvNumHeads: 2, scale: 0.5, causal: true });
  assert.ok(maxRel(got, viaOnnx(q, k, v, 0.5, bias)) < 1e-6);
});

test('a fully masked row gives zeros (the ONNX composition gives NaN)', () => {
  const next = rng(3);
  const q = randn(next, 'f32', [1, 1, 2, 4]);
  const k = randn(next, 'f32', [1, 1, 3, 4]);
  const v = randn(next, 'f32', [1, 1, 3, 4]);
  const keep = tensorFrom('bool', [2, 3], [0, 0, 0, 1, 0, 1]);
  const y = attentionRef(q, k, v, keep, { numHeads: 1, kvNumHeads: 1, scale: 1, causal: false });
  assert.equal(Array.from(y.data as Float32Array).slice(0, 4), [0, 0, 0, 0]);
  assert.ok((y.data as Float32Array).slice(4).every((x) => Number.isFinite(x) && x !== 0));
  // Causal with seq_q > seq_k: the first seq_q − seq_k rows see no key.
  const q3 = randn(next, 'f32', [1, 1, 4, 4]);
  const yc = attentionRef(q3, k, v, undefined, { numHeads: 1, kvNumHeads: 1, scale: 1, causal: true });
  assert.equal(Array.from(yc.data as Float32Array).slice(0, 4), [0, 0, 0, 0]);
  assert.ok((yc.data as Float32Array).slice(4).every((x) => x !== 0));
  // NaN still propagates (it is not "masked").
  const qn = tensorFrom('f32', [1, 1, 2, 4], [NaN, 0, 0, 0, 1, 1, 1, 1]);
  const yn = attentionRef(qn, k, v, undefined, { numHeads: 1, kvNumHeads: 1, scale: 1, causal: false });
  assert.ok(Number.isNaN((yn.data as Float32Array)[0]!) && !Number.isNaN((yn.data as Float32Array)[4]!));
});

test('stable for large scores; f16 results are the f64 result rounded once', () => {
  const q = tensorFrom('f32', [1, 1, 1, 2], [1000, 1]);
  const k = tensorFrom('f32', [1, 1, 2, 2], [1, 0, 1, -1]);
  const v = tensorFrom('f32', [1, 1, 2, 1], [1, 3]);
  const y = attentionRef(q, k, v, undefined, { numHeads: 1, kvNumHeads: 1, scale: 1, causal: false });
  // softmax([1000, 999]) = [1/(1+e⁻¹), e⁻¹/(1+e⁻¹)].
  const w = 1 / (1 + Math.exp(-1));
  assert.ok(Math.abs((y.data as Float32Array)[0]! - (w + 3 * (1 - w))) < 1e-6);

  const next = rng(5);
  const [q16, k16, v16] = [randn(next, 'f16', [1, 2, 3, 8]), randn(next, 'f16', [1, 2, 4, 8]), randn(next, 'f16', [1, 2, 4, 8])];
  const p = { numHeads: 2, kvNumHeads: 2, scale: 0.3, causal: false };
  const y16 = attentionRef(q16, k16, v16, undefined, p);
  assert.is(y16.dtype, 'f16');
  const asF64 = (x: Tensor) => tensorFrom('f64', x.shape, Array.from(x.data as Float32Array));
  const exact = attentionRef(asF64(q16), asF64(k16), asF64(v16), undefined, p);
  const rounded = tensorFrom('f16', exact.shape, Array.from(exact.data as Float64Array));
  assert.equal(Array.from(y16.data as Float32Array), Array.from(rounded.data as Float32Array));
});

test('the interpreter runs lathe.Attention nodes (attributes, defaults, mask operand)', () => {
  const next = rng(9);
  const q = randn(next, 'f32', [1, 2, 3, 4]);
  const k = randn(next, 'f32', [1, 2, 3, 4]);
  const v = randn(next, 'f32', [1, 2, 3, 4]);
  const b = new GraphBuilder('g');
  const names = [b.input('q', tensor('f32', [1, 2, 3, 4])), b.input('k', tensor('f32', [1, 2, 3, 4])), b.input('v', tensor('f32', [1, 2, 3, 4]))];
  // scale defaults to 1/sqrt(head_dim).
  const y = b.op('Attention', names, { num_heads: 2, head_dim: 4, causal: 1 }, { domain: LATHE_DOMAIN });
  const got = runModel(b.returns(y).model(), [q, k, v])[0] as Tensor;
  const want = attentionRef(q, k, v, undefined, { numHeads: 2, kvNumHeads: 2, scale: 0.5, causal: true });
  assert.equal(Array.from(got.data as Float32Array), Array.from(want.data as Float32Array));
});

test.run();
