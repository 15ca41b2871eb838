// lathe.Attention as one flash-style kernel: plain, causal (also seq_q < seq_k and seq_q > seq_k,
// where the first rows see nothing and must be zeros), GQA, Dv ≠ D, bool and additive masks
// (−∞ entries included), against the interpreter's f64 reference.
import { test } from 'uvu';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { randomTensor } from './kernel-harness.ts';
import { check, node, validateCase } from './linalg-check.ts';

const t = (shape: number[], seed: number) => randomTensor(shape, seed);
const attn = (q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, attrs: Record<string, number>) =>
  node('Attention', mask ? [q, k, v, mask] : [q, k, v], { num_heads: q.shape[1]!, head_dim: q.shape[3]!, ...attrs }, 'lathe');

/** Keep j ≤ i + 1 (bool), with row 2 fully masked. */
function boolMask(sq: number, sk: number): Tensor {
  return makeTensor('bool', [sq, sk], Uint8Array.from({ length: sq * sk }, (_, e) => {
    const i = Math.floor(e / sk);
    return i !== 2 && e % sk <= i + 1 ? 1 : 0;
  }));
}

/** Random additive mask with some −∞ entries and one fully −∞ row. */
function floatMask(shape: number[], seed: number): Tensor {
  const m = t(shape, seed);
  const d = m.data as Float32Array;
  const row = shape[shape.length - 1]!;
  for (let e = 0; e < d.length; e++) if (d[e]! > 0.6 || Math.floor(e / row) === 1) d[e] = -Infinity;
  return m;
}

test('Attention runs: plain, causal GQA, bool mask, additive mask + causal', async () => {
  await check('plain, seq 37 × 45 (several KV tiles)', attn(t([2, 4, 37, 16], 1), t([2, 4, 45, 16], 2), t([2, 4, 45, 16], 3), null, {}));
  await check('causal GQA, Dv 8', attn(t([1, 4, 37, 16], 1), t([1, 2, 37, 16], 2), t([1, 2, 37, 8], 3), null, { kv_num_heads: 2, causal: 1 }));
  await check('bool mask with a fully masked row', attn(t([1, 2, 5, 16], 1), t([1, 2, 9, 16], 2), t([1, 2, 9, 16], 3), boolMask(5, 9), { scale: 0.3 }));
  await check('additive −∞ mask [H, 1, Sk] + causal', attn(t([1, 4, 5, 16], 1), t([1, 4, 9, 16], 2), t([1, 4, 9, 16], 3), floatMask([4, 1, 9], 7), { causal: 1 }));
  await check('causal seq_q > seq_k: leading rows zero', attn(t([1, 2, 9, 8], 1), t([1, 2, 4, 8], 2), t([1, 2, 4, 8], 3), floatMask([9, 4], 5), { causal: 1 }));
});

test('Attention variants validate', async () => {
  await validateCase(attn(t([1, 12, 50, 64], 1), t([1, 12, 50, 64], 2), t([1, 12, 50, 64], 3), null, {}));
  await validateCase(attn(t([1, 8, 1, 128], 1), t([1, 1, 300, 128], 2), t([1, 1, 300, 128], 3), null, { kv_num_heads: 1, causal: 1 }));
  await validateCase(attn(t([2, 4, 7, 16], 1), t([2, 4, 7, 16], 2), t([2, 4, 7, 16], 3), floatMask([2, 1, 1, 7], 3), {}));
});

test.run();
