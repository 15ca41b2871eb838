// fuse-attention: replaces each scaled dot-product attention that passes/attention-match.ts finds
// with one lathe.Attention node (ir/ops/attention.ts, docs/attention.md).
//
// [batch, heads, seq, head_dim] operands feed the Attention as they are, and its result takes
// over the name of the final MatMul, so nothing downstream changes. [batch·heads, seq, head_dim]
// operands (nn.MultiheadAttention) are viewed as [batch, heads, seq, head_dim] with
// Unsqueeze + Reshape(−1, heads, 0, 0), and the result is viewed back with
// Reshape(−1, 1, 0, 0) + Squeeze: views only, no data movement. The removed nodes are the ones
// between the scores MatMul and the final MatMul (used nowhere else, by the match's rules);
// whatever fed only them (the K transpose, the causal mask's slicing, a scale Mul on Q) is then
// swept if nothing else reads it. Subgraphs (If/Loop bodies) are searched too.
import type { Attr, Constant, Graph, Model, Node } from '../ir/graph.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../ir/infer.ts';
import { tensorFrom, toConst } from '../ir/interp/tensor.ts';
import type { DType } from '../ir/dtype.ts';
import { constTensor } from '../ir/tensor-data.ts';
import type { ValueType } from '../ir/types.ts';
import type { AttentionMatch, MaskPlan } from './attention-match.ts';
import { matchAttention } from './attention-match.ts';
import { GraphView, isOnnx } from './attention-view.ts';
import { allNames, isPure, mapSubgraphs, NameGen, nodeReads } from './graph-edit.ts';
import type { Pass } from './pass.ts';

export interface FusedAttention {
  /** The new node's name. */
  readonly node: string;
  /** The graph it is in (`main`, or a subgraph's name). */
  readonly graph: string;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly mask: 'none' | 'bool' | 'additive';
  /** The operands' layout in the model: [batch, heads, seq, dim] or [batch·heads, seq, dim]. */
  readonly layout: 'bhsd' | '(bh)sd';
  readonly headsFolded: boolean;
}

export interface AttentionReport {
  readonly fused: readonly FusedAttention[];
  /** Softmax nodes over the last axis that were not fused, with the reason. */
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

/** Fuse every attention in `model`; the model itself when there is none. */
export function fuseAttentionModel(model: Model): { model: Model; report: AttentionReport } {
  const fused: FusedAttention[] = [];
  const skipped: { node: string; reason: string }[] = [];
  const opset = model.opsets[ONNX_DOMAIN] ?? model.opsets[''] ?? 1;
  const ctx: Ctx = { opset, names: new NameGen(allNames(model.graph)), fused, skipped };
  const graph = fuseGraph(ctx, model.graph, undefined);
  if (graph === model.graph) return { model, report: { fused, skipped } };
  const opsets = LATHE_DOMAIN in model.opsets ? model.opsets : { ...model.opsets, [LATHE_DOMAIN]: 1 };
  // New values carry placeholder types; inference fills them (and checks the whole result).
  return { model: inferModel({ ...model, graph, opsets }, { mode: 'refine' }), report: { fused, skipped } };
}

export function formatReport(r: AttentionReport): string {
  const lines = [`fuse-attention: fused ${r.fused.length} attention${r.fused.length === 1 ? '' : 's'}`];
  for (const f of r.fused) {
    const mask = [f.causal ? 'causal' : '', f.mask !== 'none' ? `${f.mask} mask` : ''].filter(Boolean).join(', ') || 'no mask';
    const heads = f.kvHeads !== f.heads ? `${f.heads} heads (${f.kvHeads} kv)` : `${f.heads} heads${f.headsFolded ? ' (folded into batch)' : ''}`;
    lines.push(`  ${f.node}: ${heads} × ${f.headDim}, scale ${f.scale}, ${mask}, from ${f.layout}`);
  }
  for (const s of r.skipped) lines.push(`  not fused: softmax '${s.node}': ${s.reason}`);
  return lines.join('\n') + '\n';
}

export const fuseAttention: Pass<{ report: boolean }> = {
  name: 'fuse-attention',
  summary: 'replace scaled dot-product attention (MatMul, scale, mask, Softmax, MatMul) with lathe.Attention',
  options: {
    report: { type: 'boolean', default: false, summary: 'print how many attentions were fused (and why others were not) to stderr' },
  },
  run(model, ctx) {
    const { model: out, report } = fuseAttentionModel(model);
    if (ctx.options.report) process.stderr.write(formatReport(report));
    return out;
  },
};

interface Ctx {
  readonly opset: number;
  readonly names: NameGen;
  readonly fused: FusedAttention[];
  readonly skipped: { node: string; reason: string }[];
}

function fuseGraph(ctx: Ctx, g0: Graph, parent: GraphView | undefined): Graph {
  // Inner graphs first: a view of this graph is then built on its final nodes.
  let g = g0;
  let outer: GraphView | undefined;
  const nodes = g0.nodes.map((n) => mapSubgraphs(n, (sg) => fuseGraph(ctx, sg, (outer ??= new GraphView(g0, ctx.opset, parent)))));
  if (nodes.some((n, i) => n !== g0.nodes[i])) g = { ...g0, nodes };
  const view = new GraphView(g, ctx.opset, parent);
  const matches: AttentionMatch[] = [];
  for (const n of g.nodes) {
    if (!isOnnx(n, 'Softmax')) continue;
    const m = matchAttention(view, n);
    if (m.ok) matches.push(m.match);
    else if (m.reason !== 'the softmax is not over the last axis') ctx.skipped.push({ node: n.name, reason: m.reason });
  }
  if (matches.length === 0) return g;

  const emit = new Emitter(ctx, g);
  const replacement = new Map<Node, Node[]>();
  const removed = new Set<Node>();
  for (const m of matches) {
    for (const n of m.remove) removed.add(n);
    replacement.set(m.pv, emit.attention(view, m, g.name));
  }
  const out: Node[] = [];
  for (const n of g.nodes) {
    if (replacement.has(n)) out.push(...replacement.get(n)!);
    else if (!removed.has(n)) out.push(n);
  }
  return sweep({ ...g, nodes: out, constants: [...g.constants, ...emit.constants] }, [...removed]);
}

/** Builds the nodes and constants of one graph's fusions. */
class Emitter {
  readonly constants: Constant[] = [];
  private nodes: Node[] = [];
  private readonly nodeNames: NameGen;
  constructor(
    private readonly ctx: Ctx,
    graph: Graph,
  ) {
    this.nodeNames = new NameGen(new Set(graph.nodes.map((n) => n.name)));
  }

  private node(op: string, inputs: (string | null)[], attrs: Node['attrs'], hint: string, out?: { name: string; type: ValueType }, domain = ONNX_DOMAIN): string {
    const name = out?.name ?? this.ctx.names.fresh(hint);
    this.nodes.push({
      name: this.nodeNames.fresh(hint),
      op,
      domain,
      inputs,
      outputs: [{ name, type: out?.type ?? PLACEHOLDER }],
      attrs,
    });
    return name;
  }

  private constant(hint: string, tensor: Constant['tensor']): string {
    const name = this.ctx.names.fresh(hint);
    this.constants.push({ name, tensor });
    return name;
  }

  /** Shape and axes constants, one per distinct value in a graph. */
  private readonly shared = new Map<string, string>();
  private ints(hint: string, values: number[]): string {
    const key = values.join(',');
    let name = this.shared.get(key);
    if (!name) this.shared.set(key, (name = this.constant(hint, constTensor('i64', [values.length], values))));
    return name;
  }

  private scalar(hint: string, dtype: DType, v: number): string {
    const key = `${dtype}:${v}`;
    let name = this.shared.get(key);
    if (!name) this.shared.set(key, (name = this.constant(hint, toConst(tensorFrom(dtype, [], [v])))));
    return name;
  }

  /** Unsqueeze/Squeeze axis 1: axes are an operand from opset 13, an attribute before. */
  private axis1(op: 'Unsqueeze' | 'Squeeze', x: string, hint: string, out?: { name: string; type: ValueType }): string {
    if (this.ctx.opset >= 13) return this.node(op, [x, this.ints('attention_axis1', [1])], {}, hint, out);
    return this.node(op, [x], { axes: { kind: 'ints', value: [1] } }, hint, out);
  }

  /** [batch·heads, s, d] viewed as [batch, heads, s, d]. */
  private unfold(x: string, heads: number, hint: string): string {
    const u = this.axis1('Unsqueeze', x, `${hint}_4d`);
    return heads === 1 ? u : this.node('Reshape', [u, this.ints(`attention_${heads}_heads`, [-1, heads, 0, 0])], {}, `${hint}_bhsd`);
  }

  attention(view: GraphView, m: AttentionMatch, graphName: string): Node[] {
    this.nodes = [];
    const prefix = m.pv.name.includes('/') ? m.pv.name.slice(0, m.pv.name.lastIndexOf('/') + 1) : '';
    const hint = `${prefix}attention`;
    const dtype = view.tensorType(m.q)!.dtype;
    let k = 'value' in m.k ? m.k.value : this.node('Transpose', [m.k.transposeOf], { perm: { kind: 'ints', value: [...m.k.perm] } }, `${hint}_k`);
    let q = m.q;
    let v = m.v;
    if (m.rank === 3) {
      // Self-attention exports may pass one value as two operands: view it once.
      const views = new Map<string, string>();
      const view4 = (x: string, h: string) => views.get(x) ?? views.set(x, this.unfold(x, m.heads, h)).get(x)!;
      q = view4(q, `${hint}_q`);
      k = view4(k, `${hint}_k`);
      v = view4(v, `${hint}_v`);
    }
    // A rank-3 mask with a batch·heads axis needs the view Q got; others broadcast as they are.
    const fit = (x: string) => {
      const s = view.shape(x);
      return m.rank === 3 && s?.length === 3 && s[0] !== 1 ? this.unfold(x, m.heads, `${hint}_mask`) : x;
    };
    const mask = this.masks(view, m.masks, dtype, `${hint}_mask`, fit);
    const attrs: Record<string, Attr> = { num_heads: { kind: 'int', value: m.heads } };
    if (m.kvHeads !== m.heads) attrs.kv_num_heads = { kind: 'int', value: m.kvHeads };
    attrs.head_dim = { kind: 'int', value: m.headDim };
    attrs.scale = { kind: 'float', value: m.scale };
    if (m.causal) attrs.causal = { kind: 'int', value: 1 };
    const result = m.pv.outputs[0]!;
    const operands = mask ? [q, k, v, mask] : [q, k, v];
    const name = this.nodeNames.fresh(hint);
    if (m.rank === 4) {
      this.nodes.push({ name, op: 'Attention', domain: LATHE_DOMAIN, inputs: operands, outputs: [result], attrs });
    } else {
      const y = this.ctx.names.fresh(hint);
      this.nodes.push({ name, op: 'Attention', domain: LATHE_DOMAIN, inputs: operands, outputs: [{ name: y, type: PLACEHOLDER }], attrs });
      const folded = m.heads === 1 ? y : this.node('Reshape', [y, this.ints('attention_1_head', [-1, 1, 0, 0])], {}, `${hint}_folded`);
      this.axis1('Squeeze', folded, `${hint}_3d`, result);
    }
    this.ctx.fused.push({
      node: name,
      graph: graphName,
      heads: m.heads,
      kvHeads: m.kvHeads,
      headDim: m.headDim,
      scale: m.scale,
      causal: m.causal,
      mask: m.masks.length === 0 ? 'none' : m.masks.length === 1 && m.masks[0]!.kind === 'keep' ? 'bool' : 'additive',
      layout: m.rank === 4 ? 'bhsd' : '(bh)sd',
      headsFolded: m.headsFolded,
    });
    return this.nodes;
  }

  /**
   * The mask operand the plans describe (undefined for none): one plan as it is, several as the
   * sum of their additive forms. `fit` adapts a source value's layout to the Attention's.
   */
  private masks(view: GraphView, plans: readonly MaskPlan[], dtype: DType, hint: string, fit: (x: string) => string): string | undefined {
    if (plans.length === 0) return undefined;
    if (plans.length === 1) return this.mask(view, plans[0]!, dtype, hint, fit, false);
    const parts = plans.map((p) => this.mask(view, p, dtype, hint, fit, true));
    return parts.reduce((sum, x) => this.node('Add', [sum, x], {}, hint));
  }

  /** One plan's mask: bool where it can be (`additive` false), else additive in `dtype`. */
  private mask(view: GraphView, plan: MaskPlan, dtype: DType, hint: string, fit: (x: string) => string, additive: boolean): string {
    switch (plan.kind) {
      case 'keep': {
        let keep: string | undefined;
        let drop: string | undefined;
        if (!plan.negate) keep = plan.cond;
        else {
          // Where(Not(keep), −inf, x) is common (masked_fill(~mask, −inf)): use `keep` itself.
          let c = view.producer(plan.cond);
          if (isOnnx(c, 'Cast') && view.tensorType(c.inputs[0]!)?.dtype === 'bool') c = view.producer(c.inputs[0]!);
          if (isOnnx(c, 'Not')) keep = c.inputs[0]!;
          else drop = plan.cond;
        }
        if (additive) {
          const [zero, ninf] = [this.scalar(`${hint}_zero`, dtype, 0), this.scalar(`${hint}_ninf`, dtype, -Infinity)];
          return keep ? this.node('Where', [fit(keep), zero, ninf], {}, hint) : this.node('Where', [fit(drop!), ninf, zero], {}, hint);
        }
        return keep ? fit(keep) : this.node('Not', [fit(drop!)], {}, hint);
      }
      case 'additive':
        if (plan.factor === 1) return fit(plan.value);
        return this.node('Mul', [fit(plan.value), this.scalar(`${hint}_scale`, dtype, plan.factor)], {}, hint);
      case 'fill': {
        const fill = this.scalar(`${hint}_fill`, dtype, plan.fill);
        const zero = this.scalar(`${hint}_zero`, dtype, 0);
        const cond = fit(plan.cond);
        return this.node('Where', plan.maskedWhen ? [cond, fill, zero] : [cond, zero, fill], {}, hint);
      }
    }
  }
}

/**
 * Removes what fed only the removed nodes: nodes whose results are now read nowhere (pure ones,
 * so a custom-domain node with side effects stays) and constants nothing reads, working upwards
 * from the removed nodes' operands.
 */
function sweep(g: Graph, removed: readonly Node[]): Graph {
  const reads = new Map<string, number>();
  const read = (name: string, d: number) => reads.set(name, (reads.get(name) ?? 0) + d);
  for (const n of g.nodes) for (const name of nodeReads(n)) read(name, 1);
  for (const o of g.outputs) read(o, 1);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o.name, n);
  const dead = new Set<Node>();
  const deadConsts = new Set<string>();
  const consts = new Set(g.constants.map((c) => c.name));
  const work = removed.flatMap((n) => nodeReads(n));
  while (work.length) {
    const name = work.pop()!;
    if ((reads.get(name) ?? 0) > 0) continue;
    if (consts.has(name)) {
      deadConsts.add(name);
      continue;
    }
    const n = producer.get(name);
    if (!n || dead.has(n) || !isPure(n)) continue;
    if (n.outputs.some((o) => o && (reads.get(o.name) ?? 0) > 0)) continue;
    dead.add(n);
    for (const x of nodeReads(n)) {
      read(x, -1);
      work.push(x);
    }
  }
  if (dead.size === 0 && deadConsts.size === 0) return g;
  return { ...g, nodes: g.nodes.filter((n) => !dead.has(n)), constants: g.constants.filter((c) => !deadConsts.has(c.name)) };
}
