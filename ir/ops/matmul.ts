// Matrix products and contractions: MatMul, Gemm, MatMulInteger, Einsum, Det.
import type { DType } from '../dtype.ts';
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { atLeast, between, exactly } from '../op.ts';
import type { Dim, Shape } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, broadcastShapes, expectDType, onnxOp, sameDType } from './util.ts';
import { expectRank, expectUnidirectional, fmt, unifyDim } from './nn-util.ts';

/** numpy.matmul shapes: 1-D operands gain then lose a unit axis; batch axes broadcast. */
export function matmulShape(ctx: InferContext, a: Shape, b: Shape): Shape {
  if (a === null || b === null) return null;
  if (a.length === 0 || b.length === 0) ctx.fail(`MatMul operands must have rank ≥ 1, got ${fmt(a)} and ${fmt(b)}`);
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  unifyDim(ctx, a2[a2.length - 1]!, b2[b2.length - 2]!, `inner dimensions of ${fmt(a)} × ${fmt(b)}`);
  const batch = broadcastShapes(ctx, [a2.slice(0, -2), b2.slice(0, -2)])!;
  const out: Dim[] = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

const MATMUL_T: readonly DType[] = [...FLOATS, 'i32', 'i64', 'u32', 'u64'];

onnxOp('MatMul', exactly(2), exactly(1), {}, (ctx) => {
  expectDType(ctx, 0, MATMUL_T);
  const dtype = sameDType(ctx, [0, 1]);
  return [tensor(dtype, matmulShape(ctx, ctx.tensor(0).shape, ctx.tensor(1).shape))];
});

// Integer matmul: u8/i8 operands with optional zero points, i32 result.
onnxOp('MatMulInteger', between(2, 4), exactly(1), {}, (ctx) => {
  const a = expectDType(ctx, 0, ['u8', 'i8']);
  const b = expectDType(ctx, 1, ['u8', 'i8']);
  if (ctx.has(2) && ctx.tensor(2).dtype !== a.dtype) ctx.fail(`a_zero_point must be ${a.dtype}`);
  if (ctx.has(3) && ctx.tensor(3).dtype !== b.dtype) ctx.fail(`b_zero_point must be ${b.dtype}`);
  return [tensor('i32', matmulShape(ctx, a.shape, b.shape))];
});

// Gemm: Y = alpha·op(A)·op(B) + beta·C with 2-D A, B; C broadcasts one way onto [M, N]. C became
// optional at opset 11; `broadcast` is the opset 1–6 flag for C's broadcasting.
const gemmAttrs = { alpha: attr.float, beta: attr.float, transA: attr.int, transB: attr.int, broadcast: attr.int };
onnxOp('Gemm', between(2, 3), exactly(1), gemmAttrs, (ctx) => {
  expectDType(ctx, 0, MATMUL_T);
  const dtype = sameDType(ctx, [0, 1, 2]);
  if (!ctx.has(2) && ctx.opset < 11) ctx.fail(`operand C is required before opset 11`);
  const a = ctx.tensor(0);
  const b = ctx.tensor(1);
  expectRank(ctx, a, 'A', 2);
  expectRank(ctx, b, 'B', 2);
  // An operand of unknown rank is still 2-D here, with unknown dims.
  const as = a.shape ?? [null, null];
  const bs = b.shape ?? [null, null];
  const [m, ka] = ctx.int('transA', 0) ? [as[1]!, as[0]!] : [as[0]!, as[1]!];
  const [kb, n] = ctx.int('transB', 0) ? [bs[1]!, bs[0]!] : [bs[0]!, bs[1]!];
  unifyDim(ctx, ka, kb, `inner dimensions of A ${fmt(as)} and B ${fmt(bs)}`);
  const out = [m, n];
  if (ctx.has(2)) expectUnidirectional(ctx, out, ctx.tensor(2).shape, 'C');
  return [tensor(dtype, out)];
});

onnxOp('Det', exactly(1), exactly(1), {}, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  if (x.shape === null) return [tensor(x.dtype, null)];
  expectRank(ctx, x, 'input', 2, Infinity);
  const r = x.shape.length;
  unifyDim(ctx, x.shape[r - 2]!, x.shape[r - 1]!, `matrix dimensions of ${fmt(x.shape)}`);
  return [tensor(x.dtype, x.shape.slice(0, -2))];
});

interface EinsumTerm {
  letters: string[];
  /** Position of `...` among the letters, or -1. */
  ellipsis: number;
}

function parseTerm(ctx: InferContext, text: string): EinsumTerm {
  const t = text.trim();
  const letters: string[] = [];
  let ellipsis = -1;
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === ' ') continue;
    if (t.startsWith('...', i)) {
      if (ellipsis >= 0) ctx.fail(`einsum term '${t}' has more than one ellipsis`);
      ellipsis = letters.length;
      i += 2;
    } else if (/[A-Za-z]/.test(c)) letters.push(c);
    else ctx.fail(`einsum term '${t}' has an invalid character '${c}'`);
  }
  return { letters, ellipsis };
}

// Einsum: bind every label to one dim across operands; `...` axes broadcast. Without `->`, the
// output is the ellipsis axes then the labels used once, in alphabetical order (numpy's rule).
onnxOp('Einsum', atLeast(1), exactly(1), { equation: { kind: 'string', required: true } }, (ctx) => {
  for (let i = 0; i < ctx.numInputs; i++) expectDType(ctx, i, MATMUL_T);
  const dtype = sameDType(ctx, Array.from({ length: ctx.numInputs }, (_, i) => i));
  const eq = ctx.string('equation').replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(',').map((t) => parseTerm(ctx, t));
  if (terms.length !== ctx.numInputs) ctx.fail(`equation '${eq}' has ${terms.length} operand terms but the node has ${ctx.numInputs} operands`);
  const dims = new Map<string, Dim>();
  const uses = new Map<string, number>();
  const ellShapes: Shape[] = [];
  let rankKnown = true;
  terms.forEach((term, i) => {
    const s = ctx.tensor(i).shape;
    for (const l of term.letters) uses.set(l, (uses.get(l) ?? 0) + 1);
    if (s === null) {
      rankKnown = rankKnown && term.ellipsis < 0;
      for (const l of term.letters) if (!dims.has(l)) dims.set(l, null);
      if (term.ellipsis >= 0) ellShapes.push(null);
      return;
    }
    const nEll = s.length - term.letters.length;
    if (nEll < 0 || (term.ellipsis < 0 && nEll !== 0)) {
      ctx.fail(`einsum term '${lhs.split(',')[i]}' does not match operand ${i} of shape ${fmt(s)}`);
    }
    const at = term.ellipsis < 0 ? term.letters.length : term.ellipsis;
    if (term.ellipsis >= 0) ellShapes.push(s.slice(at, at + nEll));
    term.letters.forEach((l, j) => {
      const d = s[j < at ? j : j + nEll]!;
      dims.set(l, dims.has(l) ? unifyDim(ctx, dims.get(l)!, d, `sizes of einsum label '${l}'`) : d);
    });
  });
  const ell = ellShapes.length ? broadcastShapes(ctx, ellShapes) : [];
  let out: EinsumTerm;
  if (arrow >= 0) {
    out = parseTerm(ctx, eq.slice(arrow + 2));
    for (const l of out.letters) if (!dims.has(l)) ctx.fail(`output label '${l}' of '${eq}' appears in no operand`);
    if (new Set(out.letters).size !== out.letters.length) ctx.fail(`output of '${eq}' repeats a label`);
  } else {
    const once = [...uses].filter(([, n]) => n === 1).map(([l]) => l).sort();
    out = { letters: once, ellipsis: ellShapes.length ? 0 : -1 };
  }
  if (!rankKnown || (out.ellipsis >= 0 && ell === null)) return [tensor(dtype, null)];
  const labelDims = out.letters.map((l) => dims.get(l)!);
  if (out.ellipsis < 0) {
    // Ellipsis axes the output leaves out are summed over, as numpy does.
    return [tensor(dtype, labelDims)];
  }
  return [tensor(dtype, [...labelDims.slice(0, out.ellipsis), ...ell!, ...labelDims.slice(out.ellipsis)])];
});
