// The remaining ONNX ops with no family of their own: conversions (Cast, CastLike, Identity,
// Constant), generators (Range, EyeLike, OneHot), selection (Where, NonZero, Trilu, Unique),
// detection and sampling (NonMaxSuppression, RoiAlign, GridSample), and the text ops.
import type { DType } from '../dtype.ts';
import { dtypeFromOnnx, FLOATS, isInteger, NUMERIC } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { ConstTensor } from '../tensor-data.ts';
import type { Dim, TensorType } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, broadcastShapes, expectDType, normalizeAxis, onnxOp, sameDType } from './util.ts';
import { dimsProduct, INDEX, knownNumbers, knownValues, MAX_VALUES, ranked, readNumbers, smallInt } from './shape-util.ts';

// TensorProto.DataType names, for Cast-1..5, whose `to` was a string such as "FLOAT".
const ONNX_TYPE_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
};

/** An ONNX dtype code from an attribute, as a lathe dtype; a clear error when lathe lacks it. */
function dtypeAttr(ctx: InferContext, name: string, dflt: DType): DType {
  const a = ctx.attr(name);
  if (!a) return dflt;
  let code: number;
  if (a.kind === 'string') {
    const c = ONNX_TYPE_NAMES[a.value.toUpperCase()];
    if (c === undefined) ctx.fail(`attribute '${name}': '${a.value}' is not an ONNX data type name`);
    code = c;
  } else code = ctx.int(name);
  const d = dtypeFromOnnx(code);
  if (typeof d !== 'string') ctx.fail(`attribute '${name}': ${d.unsupported}`);
  return d;
}

/** Integer-to-integer casts keep shape values (Shape outputs are often cast to i32 and back). */
function castValues(ctx: InferContext, to: DType): readonly Dim[] | undefined {
  return isInteger(ctx.tensor(0).dtype) ? smallInt(ctx, to, ctx.values(0)) : undefined;
}

onnxOp('Cast', exactly(1), exactly(1), { to: { kind: 'int', required: true, legacyKinds: ['string'] }, saturate: attr.int }, (ctx) => {
  return [tensor(dtypeAttr(ctx, 'to', 'f32'), ctx.tensor(0).shape)];
}, (ctx) => castValues(ctx, dtypeAttr(ctx, 'to', 'f32')));

onnxOp('CastLike', exactly(2), exactly(1), { saturate: attr.int }, (ctx) => {
  return [tensor(ctx.tensor(1).dtype, ctx.tensor(0).shape)];
}, (ctx) => castValues(ctx, ctx.tensor(1).dtype));

// From opset 16 Identity also passes sequences and optionals through.
onnxOp('Identity', exactly(1), exactly(1), {}, (ctx) => [ctx.type(0)], (ctx) => ctx.values(0));

const CONSTANT_ATTRS = ['value', 'sparse_value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings'];

onnxOp(
  'Constant',
  exactly(0),
  exactly(1),
  {
    value: attr.tensor, sparse_value: attr.tensor, value_float: attr.float, value_floats: attr.floats,
    value_int: attr.int, value_ints: attr.ints, value_string: attr.string, value_strings: attr.strings,
  },
  (ctx) => {
    const set = CONSTANT_ATTRS.filter((n) => ctx.attr(n));
    if (set.length !== 1) ctx.fail(`needs exactly one of ${CONSTANT_ATTRS.join(', ')}, got ${set.length}`);
    const a = ctx.attr(set[0]!)!;
    switch (a.kind) {
      case 'tensor': return [tensor(a.value.dtype, a.value.shape)];
      case 'float': return [tensor('f32', [])];
      case 'floats': return [tensor('f32', [a.value.length])];
      case 'int': return [tensor('i64', [])];
      case 'ints': return [tensor('i64', [a.value.length])];
      case 'string': return [tensor('string', [])];
      case 'strings': return [tensor('string', [a.value.length])];
      default: return ctx.fail(`attribute '${set[0]}' has kind ${a.kind}`);
    }
  },
  (ctx) => {
    const v = ctx.attr('value');
    if (v?.kind === 'tensor') {
      const t = v.value as ConstTensor;
      return t.shape.length <= 1 ? smallInt(ctx, t.dtype, readNumbers(t)) : undefined;
    }
    if (ctx.attr('value_int')) return [ctx.int('value_int')];
    if (ctx.attr('value_ints')) return smallInt(ctx, 'i64', ctx.ints('value_ints'));
    return undefined;
  },
);

/** Range's length from scalar start/limit/delta: computed, or the limit itself for 0..n step 1. */
function rangeLength(ctx: InferContext): Dim {
  const [s, l, d] = [0, 1, 2].map((i) => knownValues(ctx, i)?.[0] ?? null);
  if (d === 0) ctx.fail('delta cannot be 0');
  if (typeof s === 'number' && typeof l === 'number' && typeof d === 'number') return Math.max(Math.ceil((l - s) / d), 0);
  return s === 0 && d === 1 ? l : null;
}

onnxOp('Range', exactly(3), exactly(1), {}, (ctx) => {
  const dtype = sameDType(ctx, [0, 1, 2]);
  expectDType(ctx, 0, ['f32', 'f64', 'i16', 'i32', 'i64']);
  for (const i of [0, 1, 2]) {
    const s = ctx.tensor(i).shape;
    if (s && !(s.length === 0 || (s.length === 1 && s[0] === 1))) ctx.fail(`operand ${i} must be a scalar`);
  }
  return [tensor(dtype, [rangeLength(ctx)])];
}, (ctx) => {
  const n = rangeLength(ctx);
  const [s, , d] = [0, 1, 2].map((i) => knownNumbers(ctx, i)?.[0]);
  if (typeof n !== 'number' || n > MAX_VALUES || s === undefined || d === undefined) return undefined;
  return smallInt(ctx, ctx.tensor(0).dtype, Array.from({ length: n }, (_, i) => s + i * d));
});

onnxOp('EyeLike', exactly(1), exactly(1), { dtype: attr.int, k: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  if (t.shape && t.shape.length !== 2) ctx.fail(`takes a 2-D operand, got rank ${t.shape.length}`);
  return [tensor(dtypeAttr(ctx, 'dtype', t.dtype), t.shape)];
});

onnxOp('OneHot', exactly(3), exactly(1), { axis: attr.int }, (ctx) => {
  const idx = expectDType(ctx, 0, NUMERIC);
  expectDType(ctx, 1, NUMERIC);
  const values = ctx.tensor(2);
  const vs = values.shape;
  if (vs && !(vs.length === 1 && (vs[0] === 2 || typeof vs[0] !== 'number'))) ctx.fail('values must be a 2-element [off, on] tensor');
  const depth = knownNumbers(ctx, 1)?.[0];
  if (idx.shape === null) return [tensor(values.dtype, null)];
  const a = normalizeAxis(ctx, ctx.int('axis', -1), idx.shape.length + 1);
  const out: Dim[] = [...idx.shape];
  out.splice(a, 0, depth === undefined ? null : Math.trunc(depth));
  return [tensor(values.dtype, out)];
});

onnxOp('Where', exactly(3), exactly(1), {}, (ctx) => {
  expectDType(ctx, 0, ['bool']);
  const dtype = sameDType(ctx, [1, 2]);
  return [tensor(dtype, broadcastShapes(ctx, [0, 1, 2].map((i) => ctx.tensor(i).shape)))];
}, (ctx) => {
  // Exports write `Where(Equal(shape, -1), 1, shape)`; pick per element when the condition is known.
  if ([0, 1, 2].some((i) => (ctx.tensor(i).shape?.length ?? 2) > 1)) return undefined;
  const [c, x, y] = [0, 1, 2].map((i) => knownValues(ctx, i));
  if (!c || !x || !y) return undefined;
  const n = Math.max(c.length, x.length, y.length);
  if ([c, x, y].some((v) => v.length !== n && v.length !== 1)) return undefined;
  const pick = (v: readonly Dim[], i: number) => v[v.length === 1 ? 0 : i]!;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const ci = pick(c, i);
    out.push(typeof ci !== 'number' ? null : ci !== 0 ? pick(x, i) : pick(y, i));
  }
  return smallInt(ctx, ctx.tensor(1).dtype, out);
});

onnxOp('NonZero', exactly(1), exactly(1), {}, (ctx) => {
  const s = ctx.tensor(0).shape;
  return [tensor('i64', [s === null ? null : s.length, ctx.freshDim('nonzero')])];
});

onnxOp('Trilu', between(1, 2), exactly(1), { upper: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  if (t.shape && t.shape.length < 2) ctx.fail(`takes an operand of rank 2 or more, got ${t.shape.length}`);
  if (ctx.has(1)) expectDType(ctx, 1, ['i64']);
  return [t];
});

onnxOp('Unique', exactly(1), between(1, 4), { axis: attr.int, sorted: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  const n = ctx.freshDim('unique');
  let y: TensorType;
  let inverse: Dim;
  if (!ctx.attr('axis')) {
    y = tensor(t.dtype, [n]);
    inverse = t.shape === null ? null : dimsProduct(t.shape);
  } else {
    const { shape } = ranked(ctx, 0, 'the operand of Unique with an axis');
    const a = normalizeAxis(ctx, ctx.int('axis'), shape.length);
    y = tensor(t.dtype, shape.map((d, i) => (i === a ? n : d)));
    inverse = shape[a]!;
  }
  return [y, tensor('i64', [n]), tensor('i64', [inverse]), tensor('i64', [n])];
});

onnxOp('NonMaxSuppression', between(2, 5), exactly(1), { center_point_box: attr.int }, (ctx) => {
  expectDType(ctx, 0, ['f32']);
  expectDType(ctx, 1, ['f32']);
  if (ctx.has(2)) expectDType(ctx, 2, ['i64']);
  return [tensor('i64', [ctx.freshDim('selected'), 3])];
});

onnxOp(
  'RoiAlign',
  exactly(3),
  exactly(1),
  {
    mode: attr.string, output_height: attr.int, output_width: attr.int, sampling_ratio: attr.int,
    spatial_scale: attr.float, coordinate_transformation_mode: attr.string,
  },
  (ctx) => {
    const x = expectDType(ctx, 0, FLOATS);
    const rois = ctx.tensor(1);
    expectDType(ctx, 2, INDEX);
    if (x.shape && x.shape.length !== 4) ctx.fail(`X must be 4-D, got rank ${x.shape.length}`);
    if (rois.shape && (rois.shape.length !== 2 || (typeof rois.shape[1] === 'number' && rois.shape[1] !== 4))) {
      ctx.fail('rois must have shape [num_rois, 4]');
    }
    const c = x.shape?.[1] ?? null;
    const n = rois.shape?.[0] ?? null;
    return [tensor(x.dtype, [n, c, ctx.int('output_height', 1), ctx.int('output_width', 1)])];
  },
);

onnxOp('GridSample', exactly(2), exactly(1), { align_corners: attr.int, mode: attr.string, padding_mode: attr.string }, (ctx) => {
  const x = ctx.tensor(0);
  const grid = ctx.tensor(1);
  if (x.shape === null || grid.shape === null) return [tensor(x.dtype, null)];
  if (grid.shape.length !== x.shape.length) ctx.fail(`grid rank ${grid.shape.length} differs from X rank ${x.shape.length}`);
  return [tensor(x.dtype, [x.shape[0]!, x.shape[1]!, ...grid.shape.slice(1, -1)])];
});

onnxOp(
  'StringNormalizer',
  exactly(1),
  exactly(1),
  { case_change_action: attr.string, is_case_sensitive: attr.int, locale: attr.string, stopwords: attr.strings },
  (ctx) => {
    const t = expectDType(ctx, 0, ['string']);
    // Removing stopwords makes the count data-dependent.
    if (ctx.strings('stopwords', []).length === 0 || t.shape === null) return [t];
    return [tensor('string', t.shape.map((d, i) => (i === t.shape!.length - 1 ? ctx.freshDim('words') : d)))];
  },
);

onnxOp(
  'TfIdfVectorizer',
  exactly(1),
  exactly(1),
  {
    max_gram_length: attr.int, max_skip_count: attr.int, min_gram_length: attr.int, mode: attr.string,
    ngram_counts: attr.ints, ngram_indexes: attr.ints, pool_int64s: attr.ints, pool_strings: attr.strings,
    weights: attr.floats,
  },
  (ctx) => {
    const t = expectDType(ctx, 0, ['string', 'i32', 'i64']);
    const width = Math.max(-1, ...ctx.ints('ngram_indexes')) + 1;
    if (t.shape === null) return [tensor('f32', null)];
    if (t.shape.length === 1) return [tensor('f32', [width])];
    if (t.shape.length === 2) return [tensor('f32', [t.shape[0]!, width])];
    return ctx.fail(`takes a 1-D or 2-D operand, got rank ${t.shape.length}`);
  },
);

onnxOp('StringConcat', exactly(2), exactly(1), {}, (ctx) => {
  expectDType(ctx, 0, ['string']);
  expectDType(ctx, 1, ['string']);
  return [tensor('string', broadcastShapes(ctx, [ctx.tensor(0).shape, ctx.tensor(1).shape]))];
});

onnxOp('RegexFullMatch', exactly(1), exactly(1), { pattern: attr.string }, (ctx) => {
  return [tensor('bool', expectDType(ctx, 0, ['string']).shape)];
});

onnxOp('StringSplit', exactly(1), exactly(2), { delimiter: attr.string, maxsplit: attr.int }, (ctx) => {
  const s = expectDType(ctx, 0, ['string']).shape;
  // The padded substring axis is as long as the most pieces any element splits into.
  const pieces = ctx.attr('maxsplit') ? null : ctx.freshDim('pieces');
  return [tensor('string', s === null ? null : [...s, pieces]), tensor('i64', s)];
});

onnxOp('ImageDecoder', exactly(1), exactly(1), { pixel_format: attr.string }, (ctx) => {
  expectDType(ctx, 0, ['u8']);
  const fmt = ctx.string('pixel_format', 'RGB');
  if (!['RGB', 'BGR', 'Grayscale'].includes(fmt)) ctx.fail(`pixel_format '${fmt}' is not RGB, BGR or Grayscale`);
  return [tensor('u8', [ctx.freshDim('height'), ctx.freshDim('width'), fmt === 'Grayscale' ? 1 : 3])];
});

onnxOp('AffineGrid', exactly(2), exactly(1), { align_corners: attr.int }, (ctx) => {
  const theta = expectDType(ctx, 0, FLOATS);
  expectDType(ctx, 1, ['i64']);
  const size = knownValues(ctx, 1);
  // size is (N, C, H, W) for a 2-D grid or (N, C, D, H, W) for 3-D; the grid drops C and adds xy(z).
  const n = size?.length ?? ctx.tensor(1).shape?.[0];
  if (typeof n !== 'number') return [tensor(theta.dtype, null)];
  if (n !== 4 && n !== 5) ctx.fail(`size must have 4 or 5 entries, got ${n}`);
  const dims = size ?? Array.from({ length: n }, () => null);
  return [tensor(theta.dtype, [theta.shape?.[0] ?? dims[0]!, ...dims.slice(2), n - 2])];
});
