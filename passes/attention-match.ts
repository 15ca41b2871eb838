// Finding scaled dot-product attention in an exported graph, starting from each Softmax:
//
//   scores = MatMul(Q·cq, Kᵀ·ck)                  Kᵀ: Transpose(K) swapping the last two axes,
//   scores = scores·c | scores/c  (any number)        another Transpose of K, or K stored transposed
//   scores = scores + M | Where(cond, −inf, scores)   mask sites (any order, scaled around them)
//   P = Softmax(scores, axis = −1)
//   Y = MatMul(P, V)
//
// with Q, K, V either [batch, heads, seq, head_dim] (hand-written attention, Hugging Face) or
// [batch·heads, seq, head_dim] (nn.MultiheadAttention). Everything between the scores MatMul and
// the final MatMul must be used only there: those nodes are what the fusion removes. The Q/K/V
// producers are left alone (the fusion reads their values).
import type { Node } from '../ir/graph.ts';
import type { Dim } from '../ir/types.ts';
import { isUniform, triOf } from './attention-mask.ts';
import type { GraphView } from './attention-view.ts';
import { isOnnx, sameDim, scalarConstant } from './attention-view.ts';

/** Fill values at or below this mask a score out: exp(−1e4) is 0 even in f64. */
export const NEG_FILL = -1e4;
/** Mask sites one attention may have (GPT-2 in Hugging Face: a causal Where, then a padding Add). */
const MAX_SITES = 3;

/** K in [.., seq_k, head_dim] form: an existing value, or a Transpose still to be made. */
export type KRef = { readonly value: string } | { readonly transposeOf: string; readonly perm: readonly number[] };

/** What the Attention's mask operand is made of (no plan: no operand). */
export type MaskPlan =
  /** A bool mask, true where a score is kept: `cond`, or its negation. */
  | { readonly kind: 'keep'; readonly cond: string; readonly negate: boolean }
  /** An additive mask `value`·`factor` (factor 1: the value itself). */
  | { readonly kind: 'additive'; readonly value: string; readonly factor: number }
  /** `fill` where `cond` equals `maskedWhen`, 0 elsewhere (a finite masked_fill). */
  | { readonly kind: 'fill'; readonly cond: string; readonly fill: number; readonly maskedWhen: boolean };

export interface AttentionMatch {
  readonly softmax: Node;
  /** The MatMul(P, V) whose result the Attention takes over. */
  readonly pv: Node;
  /** Nodes the fusion removes: the scores MatMul, the scale and mask steps, Softmax, pv. */
  readonly remove: readonly Node[];
  readonly q: string;
  readonly k: KRef;
  readonly v: string;
  readonly rank: 3 | 4;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Rank 3 without a recoverable head count: each batch·heads row runs as its own head. */
  readonly headsFolded: boolean;
  readonly scale: number;
  readonly causal: boolean;
  /** What the mask operand is made of: none, one, or several summed (as additive masks). */
  readonly masks: readonly MaskPlan[];
}

export type MatchResult = { readonly ok: true; readonly match: AttentionMatch } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** The scale and mask steps between the scores MatMul and the Softmax, walked backwards. */
interface Chain {
  readonly nodes: readonly Node[];
  /** The product of the scale factors met so far (walking backwards: those applied later). */
  readonly factor: number;
  /** Mask sites, last applied first, each with the factor applied after it. */
  readonly sites: readonly { readonly site: Site; readonly after: number }[];
  readonly qk?: Node;
}

type Site =
  | { readonly kind: 'add'; readonly node: Node; readonly mask: string }
  | { readonly kind: 'where'; readonly node: Node; readonly cond: string; readonly fill: number; readonly maskedWhen: boolean };

function permOf(n: Node, rank: number): number[] {
  const a = n.attrs.perm;
  return a?.kind === 'ints' ? [...a.value] : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

const swapLast = (p: readonly number[]): number[] => [...p.slice(0, -2), p[p.length - 1]!, p[p.length - 2]!];
const isSwapLast = (p: readonly number[]): boolean => swapLast(p).every((x, i) => x === i);

/** Follows Identity and Mul/Div by a constant scalar up from `name`: the value and the factor. */
export function peelScale(view: GraphView, name: string): { value: string; factor: number } {
  let value = name;
  let factor = 1;
  for (let guard = 0; guard < 16; guard++) {
    const n = view.producer(value);
    if (!n || !(n.domain === 'ai.onnx' || n.domain === '')) break;
    const rank = view.rank(value);
    if (n.op === 'Identity') {
      value = n.inputs[0]!;
      continue;
    }
    const scaled = scaledOperand(view, n);
    if (!scaled || view.rank(scaled.data) !== rank) break;
    value = scaled.data;
    factor *= scaled.factor;
  }
  return { value, factor };
}

/** For Mul(x, c), Mul(c, x) or Div(x, c) with c a constant scalar: x and the factor. */
function scaledOperand(view: GraphView, n: Node): { data: string; factor: number } | undefined {
  const [a, b] = n.inputs;
  if (!a || !b) return undefined;
  if (n.op === 'Mul') {
    const cb = scalarConstant(view, b);
    if (cb !== undefined) return { data: a, factor: cb };
    const ca = scalarConstant(view, a);
    if (ca !== undefined) return { data: b, factor: ca };
  } else if (n.op === 'Div') {
    const cb = scalarConstant(view, b);
    if (cb !== undefined) return { data: a, factor: 1 / cb };
  }
  return undefined;
}

function walk(view: GraphView, name: string, chain: Chain): Chain | string {
  if (!view.usedOnce(name)) return `'${name}' (between the scores and the softmax) is used elsewhere`;
  const n = view.producerHere(name);
  if (!n) return `the scores '${name}' are not computed in this graph`;
  if (!(n.domain === 'ai.onnx' || n.domain === '')) return `unexpected ${n.domain}.${n.op} before the softmax`;
  const nodes = [...chain.nodes, n];
  const rank = view.rank(name);
  switch (n.op) {
    case 'MatMul':
      return { ...chain, nodes, qk: n };
    case 'Identity':
      return walk(view, n.inputs[0]!, { ...chain, nodes });
    case 'Mul':
    case 'Div': {
      const s = scaledOperand(view, n);
      if (!s) return `the scores are ${n.op === 'Mul' ? 'multiplied' : 'divided'} by something other than a constant scalar (node '${n.name}')`;
      if (!Number.isFinite(s.factor) || s.factor === 0 || view.rank(s.data) !== rank) return `node '${n.name}' scales the scores by ${s.factor}`;
      return walk(view, s.data, { ...chain, factor: chain.factor * s.factor, nodes });
    }
    case 'Add': {
      if (chain.sites.length >= MAX_SITES) return `more than ${MAX_SITES} masks are applied to the scores`;
      let first: string | undefined;
      // Either operand may be the scores: try each (the other is then the mask).
      for (const i of [0, 1]) {
        const data = n.inputs[i]!;
        const mask = n.inputs[1 - i]!;
        if ((view.rank(mask) ?? Infinity) > (rank ?? 0) || !sameShape(view, data, name)) continue;
        const sites = [...chain.sites, { site: { kind: 'add', node: n, mask } as Site, after: chain.factor }];
        const r = walk(view, data, { ...chain, nodes, sites });
        if (typeof r !== 'string') return r;
        first ??= r;
      }
      return first ?? `node '${n.name}' adds a mask of another shape to the scores`;
    }
    case 'Where': {
      if (chain.sites.length >= MAX_SITES) return `more than ${MAX_SITES} masks are applied to the scores`;
      const [cond, a, b] = n.inputs as string[];
      const fa = scalarConstant(view, a!);
      const fb = scalarConstant(view, b!);
      let site: Site;
      let data: string;
      if (fa !== undefined && fa <= NEG_FILL) [site, data] = [{ kind: 'where', node: n, cond: cond!, fill: fa, maskedWhen: true }, b!];
      else if (fb !== undefined && fb <= NEG_FILL) [site, data] = [{ kind: 'where', node: n, cond: cond!, fill: fb, maskedWhen: false }, a!];
      else return `node '${n.name}' (Where) does not fill the scores with −inf or a large negative constant`;
      if ((view.rank(cond!) ?? Infinity) > (rank ?? 0) || !sameShape(view, data, name)) return `node '${n.name}' masks with a condition of another shape`;
      return walk(view, data, { ...chain, nodes, sites: [...chain.sites, { site, after: chain.factor }] });
    }
  }
  return `unexpected ${n.op} between the scores MatMul and the softmax (node '${n.name}')`;
}

/** A batch dim pair MatMul might broadcast (1 against a non-1) cannot be fused. */
function batchCompatible(a: Dim | undefined, b: Dim | undefined): boolean {
  if (a === undefined || b === undefined || (a === 1) !== (b === 1)) return false;
  return !(typeof a === 'number' && typeof b === 'number' && a !== b);
}

/** A mask site must not broadcast the scores to a larger shape (the mask would then decide it). */
function sameShape(view: GraphView, data: string, out: string): boolean {
  const [a, b] = [view.shape(data), view.shape(out)];
  if (!a || !b || a.length !== b.length) return false;
  return a.every((d, i) => !(typeof d === 'number' && typeof b[i] === 'number' && d !== b[i]));
}

/**
 * The head count hidden in a [batch·heads, seq, head_dim] operand (the operand is
 * Transpose(src, perm) when perm is given, else src), from the Reshape that folded the heads:
 * nn.MultiheadAttention reshapes [s, b, E] → [s, b·h, d] and transposes by [1, 0, 2]; other
 * exports flatten [b, h, s, d] → [b·h, s, d].
 */
export function learnHeads(view: GraphView, operand: string, perm?: readonly number[]): number | undefined {
  let src = peelScale(view, operand).value;
  let p = perm;
  if (!p) {
    const t = view.producer(src);
    if (isOnnx(t, 'Transpose')) {
      p = permOf(t, view.rank(t.inputs[0]!) ?? 0);
      src = peelScale(view, t.inputs[0]!).value;
    }
  }
  const r = view.producer(src);
  if (!isOnnx(r, 'Reshape')) return undefined;
  const ys = view.shape(r.inputs[0]!);
  const rs = view.shape(src);
  if (!ys || !rs || rs.length !== 3) return undefined;
  const [E, d] = [ys[ys.length - 1], rs[2]];
  if (p?.join() === '1,0,2' && ys.length === 3 && sameDim(ys[0], rs[0]) && typeof E === 'number' && typeof d === 'number' && E % d === 0) {
    return E / d;
  }
  if (!p && ys.length === 4 && sameDim(ys[2], rs[1]) && sameDim(ys[3], rs[2]) && typeof ys[1] === 'number') return ys[1];
  return undefined;
}

/** The causal diagonal offset for these lengths: k = seq_k − seq_q, when provable. */
function causalK(sq: Dim | undefined, sk: Dim | undefined): number | undefined {
  if (sameDim(sq, sk)) return 0;
  return typeof sq === 'number' && typeof sk === 'number' ? sk - sq : undefined;
}

/** Decide what a mask site means: causal, nothing, or a mask operand. */
function planMask(view: GraphView, site: Site, post: number, sq: Dim | undefined, sk: Dim | undefined): { causal: boolean; mask?: MaskPlan } | string {
  if (post <= 0) return 'the scores are scaled by a negative factor after masking';
  const maskValue = site.kind === 'add' ? site.mask : site.cond;
  // Where a score is kept, given the mask's element there; undefined: not a pure mask value.
  const keep =
    site.kind === 'add'
      ? (x: number) => (x === 0 ? true : x <= NEG_FILL ? false : undefined)
      : (x: number) => (x !== 0) !== site.maskedWhen;
  const tri = triOf(view, maskValue);
  if (tri) {
    const [kl, kh] = [keep(tri.lo), keep(tri.hi)];
    if (isUniform(tri) && kl === true) return { causal: false };
    const s = view.shape(maskValue);
    const k = causalK(sq, sk);
    const fullRows = s && s.length >= 2 && sameDim(s[s.length - 2], sq) && sameDim(s[s.length - 1], sk);
    if (!isUniform(tri) && kl === true && kh === false && fullRows && tri.k === k) return { causal: true };
  }
  if (site.kind === 'add') return { causal: false, mask: { kind: 'additive', value: site.mask, factor: post } };
  if (site.fill === -Infinity) return { causal: false, mask: { kind: 'keep', cond: site.cond, negate: site.maskedWhen } };
  return { causal: false, mask: { kind: 'fill', cond: site.cond, fill: site.fill * post, maskedWhen: site.maskedWhen } };
}

/** Match the attention around `softmax`, or say why there is none. */
export function matchAttention(view: GraphView, softmax: Node): MatchResult {
  const x = softmax.inputs[0]!;
  const r = view.rank(x);
  if (r !== 3 && r !== 4) return fail(`the softmax input has rank ${r ?? 'unknown'}; attention scores have rank 3 or 4`);
  const axisAttr = softmax.attrs.axis;
  const axis = axisAttr?.kind === 'int' ? axisAttr.value : view.opset >= 13 ? -1 : 1;
  if ((axis < 0 ? axis + r : axis) !== r - 1) return fail('the softmax is not over the last axis');
  const p = softmax.outputs[0]!.name;
  const pv = view.consumers(p)[0];
  if (!view.usedOnce(p) || !isOnnx(pv, 'MatMul') || pv.inputs[0] !== p || pv.inputs[1] === p) {
    return fail('the softmax result is not used only as the left operand of one MatMul');
  }
  const chain = walk(view, x, { nodes: [], factor: 1, sites: [] });
  if (typeof chain === 'string') return fail(chain);
  const qk = chain.qk!;

  const q = peelScale(view, qk.inputs[0]!);
  const kt = peelScale(view, qk.inputs[1]!);
  const v = pv.inputs[1]!;
  let k: KRef;
  let kFactor = kt.factor;
  const tr = view.producer(kt.value);
  if (isOnnx(tr, 'Transpose') && view.rank(tr.inputs[0]!) === r) {
    const src = peelScale(view, tr.inputs[0]!);
    kFactor *= src.factor;
    const perm = permOf(tr, r);
    k = isSwapLast(perm) ? { value: src.value } : { transposeOf: src.value, perm: swapLast(perm) };
  } else {
    k = { transposeOf: kt.value, perm: swapLast(Array.from({ length: r }, (_, i) => i)) };
  }

  const qs = view.shape(q.value);
  const kts = view.shape(kt.value);
  const vs = view.shape(v);
  if (qs?.length !== r || kts?.length !== r || vs?.length !== r) return fail('Q, K and V do not all have the rank of the scores');
  const headDim = qs[r - 1];
  if (typeof headDim !== 'number') return fail(`the head dim of Q (${String(headDim)}) is not static`);
  if (!batchCompatible(qs[0], kts[0]) || !batchCompatible(qs[0], vs[0])) return fail('Q, K and V batch dims differ or broadcast');

  let heads: number;
  let kvHeads: number;
  let headsFolded = false;
  if (r === 4) {
    const [h, hk, hv] = [qs[1], kts[1], vs[1]];
    if (typeof h !== 'number' || typeof hk !== 'number') return fail(`the head counts of Q (${String(h)}) and K (${String(hk)}) are not static`);
    if (hv !== hk) return fail(`V has ${String(hv)} heads but K has ${hk}`);
    if (h % hk !== 0) return fail(`Q's ${h} heads are not a multiple of K's ${hk}`);
    [heads, kvHeads] = [h, hk];
  } else {
    const found = [
      learnHeads(view, q.value),
      'value' in k ? learnHeads(view, k.value) : learnHeads(view, k.transposeOf, k.perm),
      learnHeads(view, v),
    ].filter((h): h is number => h !== undefined);
    if (found.some((h) => h !== found[0])) return fail(`Q, K and V fold different head counts (${found.join(', ')})`);
    heads = found[0] ?? 1;
    headsFolded = found.length === 0;
    kvHeads = heads;
  }

  const scale = chain.factor * q.factor * kFactor;
  if (!Number.isFinite(scale) || scale === 0) return fail(`the combined scale ${scale} is not usable`);
  let causal = false;
  const masks: MaskPlan[] = [];
  // Sites in the order they are applied (the walk met the last one first).
  for (const { site, after } of [...chain.sites].reverse()) {
    const plan = planMask(view, site, after, qs[r - 2], kts[r - 1]);
    if (typeof plan === 'string') return fail(plan);
    causal ||= plan.causal;
    if (plan.mask) masks.push(plan.mask);
  }
  return {
    ok: true,
    match: {
      softmax,
      pv,
      remove: [...chain.nodes, softmax, pv],
      q: q.value,
      k,
      v,
      rank: r,
      heads,
      kvHeads,
      headDim,
      headsFolded,
      scale,
      causal,
      masks,
    },
  };
}
