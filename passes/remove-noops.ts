// remove-noops: ops that give back their operand unchanged are bypassed. Rules as data:
//   Identity(x)                          → x
//   Reshape / Expand to x's own shape    → x        (shapes equal dim by dim, symbols included)
//   Cast(x) to x's own dtype             → x
//   Dropout(x) in inference, mask unread → x        (no training_mode operand, or a false one)
//   Transpose(x) with the identity perm  → x
//   Transpose(Transpose(x, p), q)        → Transpose(x, p∘q), or x when that is the identity
//   Squeeze(Unsqueeze(x, a), a)          → x
//   Unsqueeze(Squeeze(x)) back to x's type → x
//   Reshape(Reshape(x, s), t)            → Reshape(x, t)   (t constant without 0s, or allowzero)
//   x + 0, x − 0, x · 1, x / 1           → x        (when broadcasting leaves x's type as it is)
// A value the model returns keeps its name, so a no-op producing a model output stays.
import type { Model, Node } from '../ir/graph.ts';
import type { TensorType, ValueType } from '../ir/types.ts';
import type { Pass } from './pass.ts';
import type { Match, RewriteBuilder, Rule } from './rewrite.ts';
import { any, constSplat, constValues, oneOf, op, rewriteGreedily } from './rewrite.ts';

export type RemoveNoopsOptions = { 'max-iterations': number };

/** Whether two types are the same for certain: equal dtype and every dim equal (no unknowns). */
export function sameStaticType(a: ValueType | undefined, b: ValueType | undefined): boolean {
  if (!a || !b || a.kind !== 'tensor' || b.kind !== 'tensor' || a.dtype !== b.dtype) return false;
  if (a.shape === null || b.shape === null || a.shape.length !== b.shape.length) return false;
  return a.shape.every((d, i) => d !== null && d === b.shape![i]);
}

const result = (m: Match) => m.root.outputs[0]!.name;
/** x, when the root's result has exactly x's type. */
const passThrough = (x: string) => (m: Match, b: RewriteBuilder) => (sameStaticType(b.type(x), b.type(result(m))) ? x : null);

const intsOf = (b: RewriteBuilder, n: Node, attrName: string, operand: number): number[] | undefined => {
  const a = n.attrs[attrName];
  if (a?.kind === 'ints') return [...a.value];
  const name = n.inputs[operand];
  const c = name ? b.constant(name) : undefined;
  return c ? constValues(c) : undefined;
};

const squeezed = oneOf(op('Squeeze', [any('x')]), op('Squeeze', [any('x'), any()]));

export const noopRules: readonly Rule[] = [
  { name: 'identity', pattern: op('Identity', [any('x')]), rewrite: (m) => m.values.x! },
  { name: 'reshape-same', pattern: op('Reshape', [any('x'), any()]), rewrite: (m, b) => passThrough(m.values.x!)(m, b) },
  { name: 'expand-same', pattern: op('Expand', [any('x'), any()]), rewrite: (m, b) => passThrough(m.values.x!)(m, b) },
  { name: 'cast-same', pattern: op('Cast', [any('x')]), rewrite: (m, b) => passThrough(m.values.x!)(m, b) },
  {
    name: 'dropout-inference',
    pattern: op('Dropout'),
    rewrite: (m, b) => {
      const n = m.root;
      const training = n.inputs[2];
      if (training) {
        const c = b.constant(training);
        if (!c || constSplat(c) !== 0) return null;
      }
      const a = n.attrs.is_test;
      if (b.opset() < 7 && !(a?.kind === 'int' && a.value === 1)) return null;
      return [n.inputs[0]!, null];
    },
  },
  {
    name: 'transpose-identity',
    pattern: op('Transpose', [any('x')]),
    rewrite: (m, b) => {
      const perm = permOf(m.root, b.tensorType(m.values.x!));
      return perm && perm.every((p, i) => p === i) ? m.values.x! : null;
    },
  },
  {
    name: 'transpose-transpose',
    pattern: op('Transpose', [op('Transpose', [any('x')], { capture: 'inner' })]),
    rewrite: (m, b) => {
      const x = m.values.x!;
      const p = permOf(m.nodes.inner!, b.tensorType(x));
      const q = permOf(m.root, b.tensorType(m.nodes.inner!.outputs[0]!.name));
      if (!p || !q) return null;
      const composed = q.map((i) => p[i]!);
      if (composed.every((v, i) => v === i)) return x;
      return b.op('Transpose', [x], { perm: { kind: 'ints', value: composed } });
    },
  },
  {
    // The inner Reshape's shape is forgotten by the outer one, unless the outer copies dims
    // from it (a 0 in its target without allowzero).
    name: 'reshape-reshape',
    pattern: op('Reshape', [op('Reshape', [any('x'), any()]), any('s')]),
    rewrite: (m, b) => {
      const allowzero = m.root.attrs.allowzero?.value === 1;
      const s = b.constant(m.values.s!);
      const target = s ? constValues(s) : undefined;
      if (!allowzero && (!target || target.includes(0))) return null;
      return b.op('Reshape', [m.values.x!, m.values.s!], m.root.attrs);
    },
  },
  // Unsqueeze(Squeeze(x)) puts back the unit dims it took: x, when the types say so.
  ...[[squeezed], [squeezed, any()]].map(
    (operands): Rule => ({ name: 'unsqueeze-squeeze', pattern: op('Unsqueeze', operands), rewrite: (m, b) => passThrough(m.values.x!)(m, b) }),
  ),
  // Squeeze/Unsqueeze take axes as an attribute before opset 13 and as an operand after.
  ...[1, 2].flatMap((sq) =>
    [1, 2].map(
      (us): Rule => ({
        name: 'squeeze-unsqueeze',
        pattern: op('Squeeze', [op('Unsqueeze', [any('x'), ...(us === 2 ? [any()] : [])], { capture: 'u' }), ...(sq === 2 ? [any()] : [])]),
        rewrite: (m, b) => {
          const a = intsOf(b, m.nodes.u!, 'axes', 1);
          const s = intsOf(b, m.root, 'axes', 1);
          if (!a || !s) return null;
          const rank = (b.tensorType(result(m))?.shape?.length ?? -1) + a.length;
          const norm = (xs: number[]) => xs.map((v) => (v < 0 ? v + rank : v)).sort((p, q) => p - q).join();
          return rank >= a.length && norm(a) === norm(s) ? m.values.x! : null;
        },
      }),
    ),
  ),
  ...(
    [
      ['Add', 0, true],
      ['Sub', 0, false],
      ['Mul', 1, true],
      ['Div', 1, false],
    ] as const
  ).map(
    ([name, unit, commutative]): Rule => ({
      name: `${name.toLowerCase()}-${unit}`,
      pattern: op(name, [any('x'), any('c', (v) => constSplat(v.constant) === unit)], { commutative }),
      rewrite: (m, b) => passThrough(m.values.x!)(m, b),
    }),
  ),
];

function permOf(n: Node, x: TensorType | undefined): number[] | undefined {
  const a = n.attrs.perm;
  if (a?.kind === 'ints') return [...a.value];
  if (!x?.shape) return undefined;
  return x.shape.map((_, i) => x.shape!.length - 1 - i);
}

export const removeNoops: Pass<RemoveNoopsOptions> = {
  name: 'remove-noops',
  summary: 'bypass ops that return their operand unchanged (Identity, same-shape Reshape, x·1, …)',
  options: { 'max-iterations': { type: 'number', default: 20, summary: 'rewrite sweeps before giving up' } },
  run: (model: Model, ctx) => rewriteGreedily(model, noopRules, { maxIterations: ctx.options['max-iterations'] }),
};
