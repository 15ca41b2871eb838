// lathe.Attention, the reference: for each (batch, head, query row) the scores
// s_j = scale·(q·k_j) + mask_j (+ −∞ above the bottom-right causal diagonal) are formed in f64,
// softmax'd with the row maximum subtracted (so large scores cannot overflow), and the weighted
// sum of V rows is accumulated in f64 and rounded once to the result dtype (f16/bf16 included).
// A row whose every score is −∞ (fully masked) gives zeros, not NaN: see docs/attention.md.
import { LATHE_DOMAIN } from '../../graph.ts';
import { defineEval } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { stridesOf } from './util.ts';

export interface AttentionParams {
  numHeads: number;
  kvNumHeads: number;
  scale: number;
  causal: boolean;
}

/** Strides of `shape` broadcast (right-aligned) onto a rank-4 target: 0 along size-1 axes. */
function broadcastStrides4(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const out = [0, 0, 0, 0];
  for (let i = 0; i < shape.length; i++) {
    const a = 4 - shape.length + i;
    const d = shape[i]!;
    if (d !== 1 && d !== target[a]) throw new Error(`mask [${shape.join(', ')}] does not broadcast to [${target.join(', ')}]`);
    out[a] = d === 1 ? 0 : own[i]!;
  }
  return out;
}

export function attentionRef(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, p: AttentionParams): Tensor {
  const [B, H, Sq, D] = q.shape as [number, number, number, number];
  const [Bk, Hk, Sk, Dk] = k.shape as [number, number, number, number];
  const [Bv, Hv, Skv, Dv] = v.shape as [number, number, number, number];
  if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4) throw new Error('Q, K and V must have rank 4');
  if (H !== p.numHeads || Hk !== p.kvNumHeads || Hv !== Hk) {
    throw new Error(`heads: Q has ${H}, K ${Hk}, V ${Hv}; num_heads = ${p.numHeads}, kv_num_heads = ${p.kvNumHeads}`);
  }
  if (Bk !== B || Bv !== B || Dk !== D || Skv !== Sk) {
    throw new Error(`Q [${q.shape.join(', ')}], K [${k.shape.join(', ')}], V [${v.shape.join(', ')}] do not agree`);
  }
  const group = H / Hk;
  const qd = toF64(q);
  const kd = toF64(k);
  const vd = toF64(v);
  const md = mask ? toF64(mask) : undefined;
  const boolMask = mask?.dtype === 'bool';
  const ms = mask ? broadcastStrides4(mask.shape, [B, H, Sq, Sk]) : [0, 0, 0, 0];
  // Query row i may see key j iff j ≤ i + (Sk − Sq): the diagonal ends at the last key.
  const shift = Sk - Sq;
  const out = allocData(q.dtype, B * H * Sq * Dv) as Float32Array | Float64Array;
  const scores = new Float64Array(Sk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const kBase = (b * Hk + kvh) * Sk * D;
      const vBase = (b * Hk + kvh) * Sk * Dv;
      for (let i = 0; i < Sq; i++) {
        const qBase = ((b * H + h) * Sq + i) * D;
        const mRow = b * ms[0]! + h * ms[1]! + i * ms[2]!;
        const last = p.causal ? Math.min(Sk - 1, i + shift) : Sk - 1;
        let max = -Infinity;
        for (let j = 0; j < Sk; j++) {
          let s = -Infinity;
          if (j <= last) {
            let dot = 0;
            for (let c = 0; c < D; c++) dot += qd[qBase + c]! * kd[kBase + j * D + c]!;
            s = p.scale * dot;
            if (md) {
              const m = md[mRow + j * ms[3]!]!;
              s = boolMask ? (m !== 0 ? s : -Infinity) : s + m;
            }
          }
          scores[j] = s;
          if (s > max) max = s;
        }
        const oBase = ((b * H + h) * Sq + i) * Dv;
        // Every score −∞: the row attends to nothing and is defined as zeros (stays zero-filled).
        if (max === -Infinity && !scores.some(Number.isNaN)) continue;
        acc.fill(0);
        let sum = 0;
        for (let j = 0; j < Sk; j++) {
          const w = Math.exp(scores[j]! - max);
          if (w === 0) continue;
          sum += w;
          const vRow = vBase + j * Dv;
          for (let c = 0; c < Dv; c++) acc[c] += w * vd[vRow + c]!;
        }
        for (let c = 0; c < Dv; c++) out[oBase + c] = acc[c]! / sum;
      }
    }
  }
  return roundTo(makeTensor(q.dtype, [B, H, Sq, Dv], out));
}

defineEval(LATHE_DOMAIN, 'Attention', (ctx) => {
  const numHeads = ctx.int('num_heads');
  return [
    attentionRef(ctx.tensor(0), ctx.tensor(1), ctx.tensor(2), ctx.optTensor(3), {
      numHeads,
      kvNumHeads: ctx.int('kv_num_heads', numHeads),
      scale: ctx.float('scale', 1 / Math.sqrt(ctx.int('head_dim'))),
      causal: ctx.int('causal', 0) === 1,
    }),
  ];
});
