// lathe.Attention: scaled dot-product attention over head-split operands, the one op that the
// attention technique passes and both backends build on. See docs/attention.md for the full
// definition; in short
//
//   Q [batch, num_heads, seq_q, head_dim]      K [batch, kv_num_heads, seq_k, head_dim]
//   V [batch, kv_num_heads, seq_k, v_dim]      mask (optional) broadcastable to [batch, num_heads, seq_q, seq_k]
//   Y [batch, num_heads, seq_q, v_dim] = softmax(scale·Q·Kᵀ + mask + causal bias) · V
//
// Query head h reads kv head ⌊h / (num_heads / kv_num_heads)⌋ (grouped-query attention). A bool
// mask keeps where true; a float mask is added. `causal` is aligned to the bottom right.
import type { DType } from '../dtype.ts';
import { LATHE_DOMAIN } from '../graph.ts';
import type { InferContext } from '../op.ts';
import { between, defineOp, exactly } from '../op.ts';
import type { Dim } from '../types.ts';
import { tensor } from '../types.ts';
import { expectDType } from './util.ts';
import { expectRank, fmt, unifyDim } from './nn-util.ts';

const ATTENTION_T: readonly DType[] = ['f64', 'f32', 'f16', 'bf16'];

/** The four dims of a rank-4 operand (unknown rank reads as four unknown dims). */
function dims4(ctx: InferContext, i: number, what: string): Dim[] {
  const t = ctx.tensor(i);
  expectRank(ctx, t, what, 4);
  return t.shape ? [...t.shape] : [null, null, null, null];
}

function positiveInt(ctx: InferContext, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) ctx.fail(`attribute '${name}' must be a positive integer, got ${value}`);
  return value;
}

export const attention = defineOp({
  domain: LATHE_DOMAIN,
  name: 'Attention',
  summary: 'softmax(scale·Q·Kᵀ + mask [+ causal]) · V over [batch, heads, seq, head_dim] operands',
  inputs: between(3, 4),
  outputs: exactly(1),
  attrs: {
    num_heads: { kind: 'int', required: true },
    kv_num_heads: { kind: 'int' },
    head_dim: { kind: 'int', required: true },
    scale: { kind: 'float' },
    causal: { kind: 'int' },
  },
  infer(ctx) {
    const dtype = expectDType(ctx, 0, ATTENTION_T).dtype;
    for (const [i, what] of [[1, 'K'], [2, 'V']] as const) {
      const d = ctx.tensor(i).dtype;
      if (d !== dtype) ctx.fail(`${what} has dtype ${d} but Q has ${dtype}`);
    }
    const heads = positiveInt(ctx, 'num_heads', ctx.int('num_heads'));
    const kvHeads = positiveInt(ctx, 'kv_num_heads', ctx.int('kv_num_heads', heads));
    const headDim = positiveInt(ctx, 'head_dim', ctx.int('head_dim'));
    if (heads % kvHeads !== 0) ctx.fail(`num_heads ${heads} is not a multiple of kv_num_heads ${kvHeads}`);
    const causal = ctx.int('causal', 0);
    if (causal !== 0 && causal !== 1) ctx.fail(`attribute 'causal' must be 0 or 1, got ${causal}`);
    const scale = ctx.float('scale', 1 / Math.sqrt(headDim));
    if (!Number.isFinite(scale)) ctx.fail(`attribute 'scale' must be finite, got ${scale}`);

    const q = dims4(ctx, 0, 'Q');
    const k = dims4(ctx, 1, 'K');
    const v = dims4(ctx, 2, 'V');
    unifyDim(ctx, q[1]!, heads, `Q's heads ${fmt(q)} and num_heads`);
    unifyDim(ctx, q[3]!, headDim, `Q's head dim ${fmt(q)} and head_dim`);
    unifyDim(ctx, k[1]!, kvHeads, `K's heads ${fmt(k)} and kv_num_heads`);
    unifyDim(ctx, k[3]!, headDim, `K's head dim ${fmt(k)} and head_dim`);
    unifyDim(ctx, v[1]!, kvHeads, `V's heads ${fmt(v)} and kv_num_heads`);
    let batch = unifyDim(ctx, q[0]!, k[0]!, `batch dims of Q ${fmt(q)} and K ${fmt(k)}`);
    batch = unifyDim(ctx, batch, v[0]!, `batch dims of Q ${fmt(q)} and V ${fmt(v)}`);
    const seqK = unifyDim(ctx, k[2]!, v[2]!, `key lengths of K ${fmt(k)} and V ${fmt(v)}`);

    if (ctx.has(3)) {
      const m = ctx.tensor(3);
      if (m.dtype !== 'bool' && m.dtype !== dtype) ctx.fail(`the mask must be bool or ${dtype} (Q's dtype), got ${m.dtype}`);
      if (m.shape !== null) {
        if (m.shape.length > 4) ctx.fail(`the mask ${fmt(m.shape)} has more than 4 axes`);
        // Unidirectional broadcast onto [batch, num_heads, seq_q, seq_k].
        const target: Dim[] = [batch, heads, q[2]!, seqK];
        m.shape.forEach((d, i) => {
          const t = target[4 - m.shape!.length + i]!;
          if (typeof d === 'number' && d !== 1 && typeof t === 'number' && d !== t) {
            ctx.fail(`the mask ${fmt(m.shape)} does not broadcast to [batch, num_heads, seq_q, seq_k] = ${fmt(target)}`);
          }
        });
      }
    }
    return [tensor(dtype, [batch, heads, q[2]!, v[3]!])];
  },
});
