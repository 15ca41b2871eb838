// A worked custom pass: MaxPool(Relu(x)) → Relu(MaxPool(x)).
//
// Relu is monotonic (a ≤ b ⇒ relu(a) ≤ relu(b)), so the max of relus is the relu of the max, and
// MaxPool's padding (−∞) loses to every value either way: the two forms compute the same thing.
// The swapped form runs Relu on the pooled tensor, which is kernel_size times smaller.
//
// Load it into lathe with:
//   lathe opt examples/custom-pass/input.lir --load-pass examples/custom-pass/swap-relu-maxpool.ts \
//     --passes swap-relu-maxpool
//
// It shows the parts of a pass: declared options, an analysis read through ctx, an edit made
// with immer's produce (so a throw leaves the input untouched), and returning the input object
// itself when nothing matched (so the pass manager knows nothing changed).
import { castDraft, produce } from 'immer';
import type { Node } from '../../ir/graph.ts';
import { useDef } from '../../passes/analyses.ts';
import type { Pass } from '../../passes/pass.ts';

export type SwapOptions = {
  /** Also swap Relu with GlobalMaxPool. */
  global: boolean;
};

export const swapReluMaxPool: Pass<SwapOptions> = {
  name: 'swap-relu-maxpool',
  summary: 'MaxPool(Relu(x)) → Relu(MaxPool(x)): the Relu runs on the smaller, pooled tensor',
  options: {
    global: { type: 'boolean', default: true, summary: 'also swap Relu with GlobalMaxPool' },
  },
  requires: ['use-def'],
  run(model, ctx) {
    const ud = ctx.analysis(useDef);
    const pools = new Set(ctx.options.global ? ['MaxPool', 'GlobalMaxPool'] : ['MaxPool']);
    // The pools to swap, with the Relu each reads. The Relu must have no other reader (it stays
    // alive otherwise, and we would add work), and MaxPool's Indices result must be unused:
    // Relu turns negatives into ties at 0, which may change which index wins.
    const swaps = new Map<string, Node>();
    for (const pool of model.graph.nodes) {
      if (pool.domain !== 'ai.onnx' || !pools.has(pool.op) || pool.outputs[1]) continue;
      const relu = pool.inputs[0] ? ud.producer(pool.inputs[0]) : undefined;
      if (!relu || relu.op !== 'Relu' || relu.domain !== 'ai.onnx') continue;
      if (ud.usesOf(relu.outputs[0]!.name).length !== 1) continue;
      swaps.set(pool.name, relu);
    }
    if (swaps.size === 0) return model;

    const taken = new Set(ud.defs.keys());
    const fresh = (base: string) => {
      let name = base;
      for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
      taken.add(name);
      return name;
    };
    const dropped = new Set([...swaps.values()].map((r) => r.name));
    return produce(model, (m) => {
      const nodes: Node[] = [];
      for (const n of m.graph.nodes) {
        if (dropped.has(n.name)) continue;
        const relu = swaps.get(n.name);
        if (!relu) {
          nodes.push(n);
          continue;
        }
        // The pool now reads the Relu's operand into a new value of its own result type
        // (Relu keeps shape and dtype); the Relu reads that and defines the pool's old result,
        // so every later use stays as it was. (Node names: the Relu takes over the pool's, the
        // pool is named after its new result, so both print without a #name.)
        const out = n.outputs[0]!;
        const pooled = fresh(`${out.name}_pooled`);
        nodes.push({ ...n, name: pooled, inputs: [relu.inputs[0]!], outputs: [{ name: pooled, type: out.type }] });
        nodes.push({ ...relu, name: n.name, inputs: [pooled], outputs: [out] });
      }
      // castDraft: the new list mixes draft nodes and plain (readonly-typed) ones; immer accepts both.
      m.graph.nodes = castDraft(nodes);
    });
  },
};
