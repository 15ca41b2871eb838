// lathe.Attention as one flash-style kernel on the CPU harness (forward and reverse thread order):
// plain with several K/V tiles, causal (seq_q = seq_k, < and >: leading rows fully masked must be
// zeros), GQA and MQA, Dv ≠ D, bool and additive masks with −∞ entries and broadcast shapes,
// f64 and f16/bf16, against the interpreter's f64 reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { attentionKernelForBench } from '../../backends/cuda/ops/attention.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(5);
const t = (shape: number[]) => r.f32(shape, -1, 1);
const as = (dtype: 'f64' | 'f16' | 'bf16', x: Tensor): Tensor =>
  roundTo(makeTensor(dtype, x.shape, dtype === 'f64' ? Float64Array.from(x.data as Float32Array) : Float32Array.from(x.data as Float32Array)));
const attn = (q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, attrs: Record<string, number> = {}) =>
  opCase('Attention', mask ? [q, k, v, mask] : [q, k, v], { num_heads: q.shape[1]!, head_dim: q.shape[3]!, ...attrs }, { domain: 'lathe' });

/** Keep j ≤ i + 1 (bool), with row 2 fully masked. */
function boolMask(sq: number, sk: number): Tensor {
  return makeTensor('bool', [sq, sk], Uint8Array.from({ length: sq * sk }, (_, e) => {
    const i = Math.floor(e / sk);
    return i !== 2 && e % sk <= i + 1 ? 1 : 0;
  }));
}

/** Random additive mask with some −∞ entries and one fully −∞ row. */
function floatMask(shape: number[]): Tensor {
  const m = t(shape);
  const d = m.data as Float32Array;
  const row = shape[shape.length - 1]!;
  for (let e = 0; e < d.length; e++) if (d[e]! > 0.6 || Math.floor(e / row) === 1) d[e] = -Infinity;
  return m;
}

test('Attention f32: plain, causal, GQA/MQA, masks', () => {
  checkCuda('attention', [
    attn(t([2, 4, 37, 16]), t([2, 4, 45, 16]), t([2, 4, 45, 16]), null),
    attn(t([1, 4, 37, 16]), t([1, 2, 37, 16]), t([1, 2, 37, 8]), null, { kv_num_heads: 2, causal: 1 }),
    attn(t([1, 2, 5, 16]), t([1, 2, 9, 16]), t([1, 2, 9, 16]), boolMask(5, 9), { scale: 0.3 }),
    attn(t([1, 4, 5, 16]), t([1, 4, 9, 16]), t([1, 4, 9, 16]), floatMask([4, 1, 9]), { causal: 1 }),
    attn(t([1, 2, 9, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), floatMask([9, 4]), { causal: 1 }), // seq_q > seq_k
    attn(t([1, 8, 1, 64]), t([1, 1, 70, 64]), t([1, 1, 70, 64]), null, { kv_num_heads: 1, causal: 1 }), // decode, MQA
    attn(t([2, 3, 150, 8]), t([2, 3, 150, 8]), t([2, 3, 150, 12]), floatMask([2, 1, 1, 150]), {}), // two query blocks
  ]);
});

test('Attention f64 / f16 / bf16', () => {
  checkCuda('attention f64', [
    attn(as('f64', t([1, 2, 19, 8])), as('f64', t([1, 2, 23, 8])), as('f64', t([1, 2, 23, 8])), null, { causal: 1 }),
  ], { rtol: 1e-10, atol: 1e-12 });
  checkCuda('attention f16/bf16', (['f16', 'bf16'] as const).map((dt) =>
    attn(as(dt, t([1, 2, 33, 16])), as(dt, t([1, 2, 40, 16])), as(dt, t([1, 2, 40, 16])), as(dt, floatMask([33, 40])), { causal: 1 })), { rtol: 2e-2, atol: 1e-2 });
});

test('attentionKernelForBench: grid over query blocks, heads, batch', () => {
  const k = attentionKernelForBench(2, 16, 1024, 64, 'f16');
  assert.equal(k.grid, [8, 16, 2]); // FlashAttention-2 body: 8 warps × 16 query rows a block
  assert.equal(k.block, [256, 1, 1]);
  assert.match(k.code, /lathe_mma_f16\(/);
  assert.match(k.code, /lathe_ldsm_x4_t\(/);
  assert.ok(k.helpers.some((h) => h.includes('mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32')));
  // The PTX path is only compiled for sm_80+; the CUDA-core body is the #else (CPU harness, older GPUs).
  assert.match(k.code, /#if defined\(__CUDA_ARCH__\) && __CUDA_ARCH__ >= 800[\s\S]*#else[\s\S]*#endif/);
  assert.equal(k.bindings.map((b) => b.param), ['qm', 'km', 'vm', 'y']);
  // Head dim 128: 4 warps (64 rows) so the Q staging and two K/V stages fit 48 KiB.
  const w = attentionKernelForBench(1, 2, 256, 128, 'bf16', true);
  assert.equal(w.block, [128, 1, 1]);
  assert.match(w.code, /lathe_mma_bf16\(/);
  // Head dims past 128: too many accumulators for registers, the CUDA-core body.
  assert.not.match(attentionKernelForBench(1, 1, 64, 256, 'f16').code, /lathe_mma_f16\(/);
});

test.run();
