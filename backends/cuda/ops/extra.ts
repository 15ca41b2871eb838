// Ops that produce or pick elements by position, ported from the WGSL backend (extra.ts,
// misc.ts) with the interpreter's semantics: Trilu, ConstantOfShape, EyeLike, OneHot, Range (with
// constant operands: its length is the result's static shape), Compress (its result's length
// static: a constant condition is baked into a table, a computed one scanned) and ReverseSequence. One thread per
// result element each.
import { createHash } from 'node:crypto';
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { reverseSequenceGeometry } from '../../shared/misc-plan.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { C_TYPE } from '../kernel.ts';
import { decompose, elemOf, firstValue, literal, load, normAxis, numElements, perElementKernel, readBinding, u, writeBinding } from './index-util.ts';

/** A constant scalar operand's value (bigint for 64-bit integers), undefined where omitted or computed. */
function constScalar(ctx: CudaContext, i: number): number | bigint | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return undefined;
  if (numElements(c.shape) !== 1) return ctx.unsupported(`${ctx.node.op}'s operand ${i} must hold one element`);
  return firstValue(c);
}

// Trilu: element (i, j) of each matrix is kept where j − i ≥ k (upper) or ≤ k (lower), else 0.
defineOnnxCuda(['Trilu'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  if (r < 2) return ctx.unsupported('Trilu needs rank ≥ 2');
  const n = numElements(x.shape);
  if (n === 0) return [];
  const [R, C] = [x.shape[r - 2]!, x.shape[r - 1]!];
  const upper = ctx.int('upper', 1) === 1;
  const elem = elemOf(ctx, y);
  const kConst = constScalar(ctx, 1);
  // A computed k is read from its buffer; a constant one is clamped to a range no matrix reaches.
  const kBuf = !!ctx.node.inputs[1] && kConst === undefined;
  const kExpr = kBuf ? '(long long)kb[0]' : `${Math.max(-(2 ** 40), Math.min(2 ** 40, Number(kConst ?? 0)))}ll`;
  const bindings = [readBinding(ctx, 'x', x), ...(kBuf ? [readBinding(ctx, 'kb', ctx.input(1)!)] : []), writeBinding(ctx, 'y', y)];
  return [
    perElementKernel(ctx, `trilu_${upper ? 'upper' : 'lower'}`, bindings, n, [
      `const long long col = (long long)(flat % ${u(C)});`,
      `const long long row = (long long)((flat / ${u(C)}) % ${u(R)});`,
      `y[flat] = col - row ${upper ? '>=' : '<='} ${kExpr} ? x[flat] : ${literal(0, elem)};`,
    ]),
  ];
});

// ConstantOfShape: every element is the `value` attribute's one element (f32 0 without it). The
// shape operand is only the result's (static) shape.
defineOnnxCuda(['ConstantOfShape'], (ctx) => {
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const a = ctx.attr('value');
  let v: number | bigint = 0;
  if (a) {
    if (a.kind !== 'tensor') return ctx.unsupported(`ConstantOfShape value is a ${a.kind} attribute`);
    if (numElements(a.value.shape) !== 1) return ctx.unsupported('ConstantOfShape value must hold one element');
    v = firstValue(a.value);
  }
  return [perElementKernel(ctx, 'fill', [writeBinding(ctx, 'y', y)], n, [`y[flat] = ${literal(v, elemOf(ctx, y))};`])];
});

// EyeLike: ones on the diagonal shifted by k, zeros elsewhere, in the result's dtype (the `dtype`
// attribute's, the operand's by default). The operand is only its shape.
defineOnnxCuda(['EyeLike'], (ctx) => {
  const y = ctx.output(0)!;
  if (y.shape.length !== 2) return ctx.unsupported('EyeLike needs a 2-D operand');
  const n = numElements(y.shape);
  if (n === 0) return [];
  const k = ctx.int('k', 0);
  const C = y.shape[1]!;
  const elem = elemOf(ctx, y);
  return [
    perElementKernel(ctx, 'eyelike', [writeBinding(ctx, 'y', y)], n, [
      `const long long i = (long long)(flat / ${u(C)}), j = (long long)(flat % ${u(C)});`,
      `y[flat] = j - i == ${k}ll ? ${literal(1, elem)} : ${literal(0, elem)};`,
    ]),
  ];
});

// OneHot: the result as [outer, depth, inner]; each element reads its index (a float one
// truncated, a negative one counted from the end) and is values[1] at that depth position,
// values[0] elsewhere. An index outside [−depth, depth) leaves its column all values[0].
defineOnnxCuda(['OneHot'], (ctx) => {
  const ind = ctx.input(0)!;
  const values = ctx.input(2)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const axis = normAxis(ctx.int('axis', -1), ind.shape.length + 1);
  const depth = y.shape[axis]!;
  const inner = numElements(ind.shape.slice(axis));
  const ie = elemOf(ctx, ind);
  const raw = `ind[i0 * ${u(inner)} + i2]`;
  const isFloat = ie === 'f32' || ie === 'f64' || ie === 'f16' || ie === 'bf16';
  // Float indices: truncated toward zero; NaN and values far out of range match no position.
  const k = isFloat
    ? [`const double kv = (double)${load(raw, ie)};`, 'long long k = kv > -4.0e18 && kv < 4.0e18 ? (long long)kv : 0x7fffffffffffffffll;']
    : ie === 'u64'
      ? [`const uint64_t kr = ${raw};`, 'long long k = kr > 0x7fffffffffffffffull ? 0x7fffffffffffffffll : (long long)kr;']
      : [`long long k = (long long)${raw};`];
  return [
    perElementKernel(ctx, 'onehot', [readBinding(ctx, 'ind', ind), readBinding(ctx, 'vals', values), writeBinding(ctx, 'y', y)], n, [
      ...decompose('flat', [n / (depth * inner), depth, inner]),
      ...k,
      `if (k < 0) k += ${depth}ll;`,
      'y[flat] = k == (long long)i1 ? vals[1] : vals[0];',
    ]),
  ];
});

// Range: start + i·delta, computed as the interpreter does (in double for floats, rounded once;
// in 64-bit integers for integers). The operands must be constants: they set the length.
defineOnnxCuda(['Range'], (ctx) => {
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const [start, , delta] = [constScalar(ctx, 0), constScalar(ctx, 1), constScalar(ctx, 2)];
  if (start === undefined || delta === undefined || !ctx.constant(1)) return ctx.unsupported('Range with computed operands (its length would not be static)');
  const elem = elemOf(ctx, y);
  const isFloat = elem === 'f32' || elem === 'f64' || elem === 'f16' || elem === 'bf16';
  const value = isFloat
    ? `${literal(Number(start), 'f64')} + (double)flat * ${literal(Number(delta), 'f64')}`
    : `(long long)${literal(BigInt(start), 'i64')} + (long long)flat * (long long)${literal(BigInt(delta), 'i64')}`;
  const stored = elem === 'f16' ? `__float2half_rn((float)(${value}))` : elem === 'bf16' ? `__float2bfloat16_rn((float)(${value}))` : `(${C_TYPE[elem]})(${value})`;
  return [perElementKernel(ctx, 'range', [writeBinding(ctx, 'y', y)], n, [`y[flat] = ${stored};`])];
});

// Compress: the result [outer, kept, inner] reads position table[k] along the axis (of the
// flattened operand without one). A constant condition bakes the table into the program; a
// computed one (the result's length still static: the model states it) is scanned into a
// scratch table by one thread first, as the interpreter does: the k-th true entry in order.
defineOnnxCuda(['Compress'], (ctx) => {
  const x = ctx.input(0)!;
  const cnd = ctx.input(1)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const hasAxis = ctx.attr('axis') !== undefined;
  const shape = hasAxis ? x.shape : [numElements(x.shape)];
  const axis = hasAxis ? normAxis(ctx.int('axis'), x.shape.length) : 0;
  const dim = shape[axis]!;
  const inner = numElements(shape.slice(axis + 1));
  const kept = y.shape.length === shape.length ? y.shape[axis]! : n;
  if (kept === 0) return [];
  const outer = n / (kept * inner);
  const gather = (table: string) => [...decompose('flat', [outer, kept, inner]), `y[flat] = x[(i0 * ${u(dim)} + ${table}[i1]) * ${u(inner)} + i2];`];
  const c = ctx.constant(1);
  if (c) {
    const keep = toNumbers(fromConst(c)).slice(0, dim).flatMap((v, j) => (v ? [j] : []));
    if (keep.length !== kept) return ctx.unsupported(`the condition keeps ${keep.length} positions, the result has ${kept}`);
    const table = `{${keep.join(', ')}}`;
    const name = `lathe_compress_${createHash('sha256').update(table).digest('hex').slice(0, 12)}`;
    return [perElementKernel(ctx, 'compress', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y)], n, gather(name), [`__device__ const unsigned ${name}[${kept}] = ${table};`])];
  }
  const len = Math.min(numElements(cnd.shape), dim);
  const table = { value: `${ctx.node.name}::compress_table`, access: 'read_write' as const, elem: 'u32' as const, param: 'table' };
  // More true entries than the result holds are dropped, fewer leave position 0: never out of bounds.
  return [
    perElementKernel(ctx, 'compress_scan', [readBinding(ctx, 'cond', cnd), { ...table, scratchBytes: kept * 4 }], 1, [
      'unsigned k = 0u;',
      `for (unsigned j = 0u; j < ${u(len)} && k < ${u(kept)}; ++j) if (cond[j]) table[k++] = j;`,
      `for (; k < ${u(kept)}; ++k) table[k] = 0u;`,
    ]),
    perElementKernel(ctx, 'compress', [readBinding(ctx, 'x', x), { ...table, access: 'read' }, writeBinding(ctx, 'y', y)], n, gather('table')),
  ];
});

// ReverseSequence: element (t, b, …) reads time len[b] − 1 − t of its batch where t < len[b],
// else itself. The lengths are read from their buffer and clamped to [0, T].
defineOnnxCuda(['ReverseSequence'], (ctx) => {
  const x = ctx.input(0)!;
  const lens = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { T, B, ts, bs } = reverseSequenceGeometry(ctx, x);
  const n = numElements(x.shape);
  if (n === 0) return [];
  return [
    perElementKernel(ctx, 'reverse_sequence', [readBinding(ctx, 'x', x), readBinding(ctx, 'lens', lens), writeBinding(ctx, 'y', y)], n, [
      `const long long t = (long long)((flat / ${u(ts)}) % ${u(T)});`,
      `const unsigned b = (flat / ${u(bs)}) % ${u(B)};`,
      `long long len = (long long)lens[b];`,
      `len = len < 0 ? 0 : (len > ${T}ll ? ${T}ll : len);`,
      `y[flat] = x[t < len ? (unsigned)((long long)flat + (len - 1 - 2 * t) * ${ts}ll) : flat];`,
    ]),
  ];
});
