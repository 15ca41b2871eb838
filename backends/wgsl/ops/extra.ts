// Assorted ops with no other family: Dropout (inference: the identity, and an all-true mask),
// Trilu, ConstantOfShape, BitShift, Hardmax (on the row template: the row's max, then the
// first index holding it) and OneHot.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { broadcastStrides, coalesce, IndexSpace, numElements, Operand } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { Alias, LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { perElementKernel } from '../template.ts';
import { normAxis, readVar, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { FLOAT_SPECIALS, NEG_INF, rowKernel } from './rows.ts';


/** One thread per element of `n`: `flat` in scope in `body`. */
function perElement(ctx: LowerContext, what: string, key: string, n: number, vars: BoundVar[], uniforms: KernelUniform[], helpers: string[], body: string[]): Kernel[] {
  return perElementKernel(ctx, what, key, n, vars, body, { uniforms, helpers });
}

/** A scalar constant operand's value, or undefined where the operand is omitted. */
function constScalar(ctx: LowerContext, i: number, what: string): number | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return ctx.unsupported(`${ctx.node.op}'s ${what} (operand ${i}) must be a constant for the WGSL backend`);
  const v = toNumbers(fromConst(c));
  if (v.length !== 1) return ctx.unsupported(`${ctx.node.op}'s ${what} must be a scalar`);
  return v[0]!;
}

/** WGSL literal of `v` as the storage element `elem`. */
function literal(v: number, elem: string): string {
  switch (elem) {
    case 'f32': return `bitcast<f32>(${new Uint32Array(Float32Array.of(v).buffer)[0]!}u)`;
    case 'f16': return `f16(bitcast<f32>(${new Uint32Array(Float32Array.of(v).buffer)[0]!}u))`;
    case 'u32': return `${v >>> 0}u`;
    default: return `i32(${v | 0})`;
  }
}

// Dropout at inference: y is x. Training (opset ≥ 12, training_mode true) with ratio > 0 draws a
// random mask, which the WGSL backend does not do.
defineOnnxWgsl(['Dropout'], (ctx): Kernel[] | Alias => {
  const x = ctx.input(0)!;
  if (ctx.opset >= 12 && ctx.node.inputs[2]) {
    const training = constScalar(ctx, 2, 'training_mode') ?? 0;
    const ratio = constScalar(ctx, 1, 'ratio') ?? 0.5;
    if (training !== 0 && ratio > 0) return ctx.unsupported(`Dropout in training mode (ratio ${ratio}) draws a random mask; the WGSL backend runs Dropout for inference only`);
  }
  const mask = ctx.output(1);
  if (!mask) return { alias: [{ output: 0, input: 0 }] };
  // With a mask wanted, one kernel copies x to y and writes the mask (all kept: true, or 1 in
  // the data's dtype before opset 10).
  const y = ctx.output(0)!;
  const mv = writeVar(ctx, 'm', mask);
  const one = literal(1, mv.binding.elem);
  const vars = [readVar(ctx, 'x', x), writeVar(ctx, 'y', y), mv];
  return perElement(ctx, 'dropout', mv.binding.elem, numElements(x.shape), vars, [], [], ['y[flat] = x[flat];', `m[flat] = ${one};`]);
});

// Trilu: the batch dims, rows and columns as a [B, R, C] index space; element (i, j) is kept
// where j − i ≥ k (upper) or ≤ k (lower).
defineOnnxWgsl(['Trilu'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  if (r < 2) return ctx.unsupported('Trilu needs rank ≥ 2');
  // k: a constant (a uniform), or a computed operand read from its buffer (i64 held as i32).
  const kIn = ctx.node.inputs[1] ? ctx.input(1) : undefined;
  const kConst = kIn && !ctx.constant(1) ? undefined : Math.max(-(2 ** 30), Math.min(2 ** 30, constScalar(ctx, 1, 'k') ?? 0));
  const upper = ctx.int('upper', 1) === 1;
  const [R, C] = [x.shape[r - 2]!, x.shape[r - 1]!];
  const space = new IndexSpace('o', [numElements(x.shape.slice(0, r - 2)), R, C]);
  const yv = writeVar(ctx, 'y', y);
  const vars = [readVar(ctx, 'x', x), yv];
  if (kConst === undefined) vars.push(readVar(ctx, 'kb', kIn!));
  const kExpr = kConst === undefined ? 'i32(kb[0])' : 'u.k';
  const keep = `i32(idx[2]) - i32(idx[1]) ${upper ? '>=' : '<='} ${kExpr}`;
  return perElement(
    ctx,
    'trilu',
    `${upper ? 'upper' : 'lower'}/${kConst === undefined ? 'kbuf' : 'kuni'}`,
    numElements(x.shape),
    vars,
    [...space.uniforms, ...(kConst === undefined ? [] : [{ name: 'k', type: 'i32' as const, value: kConst }])],
    [space.helper],
    [`let idx = ${space.indices('flat')};`, `y[flat] = select(${yv.binding.elem}(0), x[flat], ${keep});`],
  );
});

// ConstantOfShape: the shape is static once specialized; every element is the `value`
// attribute's one element (f32 0 without it).
defineOnnxWgsl(['ConstantOfShape'], (ctx) => {
  const y = ctx.output(0)!;
  const a = ctx.attr('value');
  let v = 0;
  if (a) {
    if (a.kind !== 'tensor') return ctx.unsupported(`ConstantOfShape value is a ${a.kind} attribute`);
    const vals = toNumbers(fromConst(a.value));
    if (vals.length !== 1) return ctx.unsupported('ConstantOfShape value must hold one element');
    v = vals[0]!;
  }
  const yv = writeVar(ctx, 'y', y);
  const e = yv.binding.elem;
  const type = e === 'u32' ? 'u32' : e === 'i32' ? 'i32' : 'f32';
  return perElement(ctx, 'fill', e, numElements(y.shape), [yv], [{ name: 'v', type, value: v }], [], [`y[flat] = ${e === 'f16' ? 'f16(u.v)' : 'u.v'};`]);
});

// BitShift on u8/u16/u32 (stored as i32 or u32) and u64 (stored as u32, so 32 bits wide here),
// broadcasting: computed in u32, a shift by the width or more gives 0, and a left shift is cut to
// the width.
defineOnnxWgsl(['BitShift'], (ctx) => {
  const a = ctx.input(0)!;
  const b = ctx.input(1)!;
  const y = ctx.output(0)!;
  const bits = { u8: 8, u16: 16, u32: 32, u64: 32 }[a.dtype as 'u8' | 'u16' | 'u32' | 'u64'];
  if (!bits) return ctx.unsupported(`BitShift on ${a.dtype} (the WGSL backend holds u8, u16, u32 and u64 in u32)`);
  const left = ctx.string('direction') === 'LEFT';
  const n = numElements(y.shape);
  const c = coalesce(y.shape, [broadcastStrides(a.shape, y.shape), broadcastStrides(b.shape, y.shape)]);
  const space = new IndexSpace('o', c.shape);
  const oa = new Operand('va', space, c.strides[0]!);
  const ob = new Operand('vb', space, c.strides[1]!);
  const needIdx = oa.mode === 'view' || ob.mode === 'view';
  const yv = writeVar(ctx, 'y', y);
  const mask = bits === 32 ? '' : ` & ${(2 ** bits - 1) >>> 0}u`;
  const shifted = left ? `(p << s)${mask}` : 'p >> s';
  return perElement(
    ctx,
    'bitshift',
    `${left ? 'l' : 'r'}${bits}/r${space.rank}/${oa.mode}/${ob.mode}`,
    n,
    [readVar(ctx, 'a', a), readVar(ctx, 'b', b), yv],
    [...(needIdx ? space.uniforms : []), ...oa.uniforms, ...ob.uniforms],
    [...(needIdx ? [space.helper] : []), ...[oa.helper, ob.helper].filter((h): h is string => !!h)],
    [
      ...(needIdx ? [`let idx = ${space.indices('flat')};`] : []),
      `let p = u32(a[${oa.offset('flat', 'idx')}]);`,
      `let s = u32(b[${ob.offset('flat', 'idx')}]);`,
      `y[flat] = ${yv.binding.elem}(select(0u, ${shifted}, s < ${bits}u));`,
    ],
  );
});

// Hardmax: 1 at the first maximum of each row, 0 elsewhere. Rows as Softmax's: before opset 13
// all dims from `axis` (default 1) on, from 13 the one `axis` (default −1). Two row phases: the
// max, then the least index holding it (as f32: exact below 2^24).
defineOnnxWgsl(['Hardmax'], (ctx) => {
  const x = ctx.input(0)!;
  const r = x.shape.length;
  if (ctypeOf(x.dtype) !== 'f32') return ctx.unsupported(`Hardmax on ${x.dtype}`);
  const reduced: number[] =
    ctx.opset < 13
      ? Array.from({ length: r }, (_, i) => i).filter((i) => i >= normAxis(ctx.int('axis', 1), r))
      : [normAxis(ctx.int('axis', -1), r)];
  const n = numElements(reduced.map((d) => x.shape[d]!));
  if (n >= 2 ** 24) return ctx.unsupported(`Hardmax rows of ${n} elements (at most 2^24)`);
  const NONE = '16777216.0';
  return rowKernel(ctx, {
    what: 'hardmax',
    reduced,
    vars: [writeVar(ctx, 'y', ctx.output(0)!)],
    phases: [
      { name: 'm', init: NEG_INF, map: (v) => v, combine: (p, q) => `max(${p}, ${q})`, subgroup: 'Max' },
      { name: 'b', init: NONE, map: (v) => `select(${NONE}, f32(k), ${v} == m)`, combine: (p, q) => `min(${p}, ${q})`, subgroup: 'Min' },
    ],
    elemWrites: (store) => [`y[at] = ${store('select(0.0, 1.0, f32(k) == b)', 'y')};`],
    helpers: [FLOAT_SPECIALS],
  });
});

// OneHot: the result as a [outer, depth, inner] index space; each element reads its index (float
// indices truncated, negative ones counted from the end) and writes values[1] where it is the
// element's depth position, values[0] elsewhere. depth is the result's static size at `axis`.
defineOnnxWgsl(['OneHot'], (ctx) => {
  const ind = ctx.input(0)!;
  const values = ctx.input(2)!;
  const y = ctx.output(0)!;
  const axis = normAxis(ctx.int('axis', -1), ind.shape.length + 1);
  const depth = y.shape[axis]!;
  const inner = numElements(ind.shape.slice(axis));
  const space = new IndexSpace('o', [numElements(ind.shape.slice(0, axis)), depth, inner]);
  const iv = new Operand('iv', space, [inner, 0, 1]);
  const raw = `ind[${iv.offset('flat', 'idx')}]`;
  const k = ctypeOf(ind.dtype) === 'f32' ? `i32(trunc(f32(${raw})))` : `i32(${raw})`;
  return perElement(
    ctx,
    'onehot',
    `r${space.rank}/${iv.mode}`,
    numElements(y.shape),
    [readVar(ctx, 'ind', ind), readVar(ctx, 'vals', values), writeVar(ctx, 'y', y)],
    [...space.uniforms, ...iv.uniforms, { name: 'depth', type: 'i32', value: depth }],
    [space.helper, ...(iv.helper ? [iv.helper] : [])],
    [
      `let idx = ${space.indices('flat')};`,
      `var k = ${k};`,
      'if (k < 0) { k += u.depth; }',
      'y[flat] = select(vals[0], vals[1], k == i32(idx[1]));',
    ],
  );
});
