// Data-movement ops: Transpose, Concat, Split, Slice, Tile, Pad, Resize, Upsample,
// DepthToSpace, SpaceToDepth, ReverseSequence, CenterCropPad, Compress. Sizes given as operands
// (slice bounds, pads, repeats, resize sizes) are read through shape values, so symbols survive.
import type { InferContext } from '../op.ts';
import { atLeast, between, exactly } from '../op.ts';
import type { Dim } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp, sameDType } from './util.ts';
import {
  attrOrInput, dimAdd, dimMul, HUGE, INDEX, knownLength, knownNumbers, knownValues, normalizeAxes, ranked,
  smallInt, unifyDim, unknownDims,
} from './shape-util.ts';

onnxOp('Transpose', exactly(1), exactly(1), { perm: attr.ints }, (ctx) => {
  const t = ctx.tensor(0);
  const perm = ctx.attr('perm') ? ctx.ints('perm') : undefined;
  if (t.shape === null) return [tensor(t.dtype, perm ? unknownDims(perm.length) : null)];
  const r = t.shape.length;
  const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== r || sorted.some((a, i) => a !== i)) {
    ctx.fail(`perm [${p.join(', ')}] is not a permutation of the ${r} axes`);
  }
  return [tensor(t.dtype, p.map((a) => t.shape![a]!))];
});

onnxOp('Concat', atLeast(1), exactly(1), { axis: { kind: 'int', required: false } }, (ctx) => {
  const all = Array.from({ length: ctx.numInputs }, (_, i) => i);
  const dtype = sameDType(ctx, all);
  const axis = ctx.opset < 4 ? ctx.int('axis', 1) : ctx.int('axis');
  const shapes = all.filter((i) => ctx.has(i)).map((i) => ctx.tensor(i).shape);
  const known = shapes.filter((s): s is readonly Dim[] => s !== null);
  if (known.length === 0) return [tensor(dtype, null)];
  const r = known[0]!.length;
  if (known.some((s) => s.length !== r)) {
    ctx.fail(`operands have different ranks: ${known.map((s) => `[${s.join(', ')}]`).join(', ')}`);
  }
  if (r === 0) ctx.fail('cannot concatenate scalars');
  const a = normalizeAxis(ctx, axis, r);
  const out = Array.from({ length: r }, (_, i) => {
    if (i === a) return shapes.reduce<Dim>((sum, s) => (s === null ? null : dimAdd(sum, s[i]!)), 0);
    return known.reduce<Dim>((d, s) => unifyDim(ctx, d, s[i]!, `operands disagree on axis ${i}`), null);
  });
  return [tensor(dtype, out)];
}, (ctx) => {
  const out: Dim[] = [];
  for (let i = 0; i < ctx.numInputs; i++) {
    if (!ctx.has(i)) continue;
    const v = ctx.values(i);
    if (!v || ctx.tensor(i).shape?.length !== 1) return undefined;
    out.push(...v);
  }
  return smallInt(ctx, ctx.tensor(0).dtype, out);
});

onnxOp('Split', between(1, 2), atLeast(1), { axis: attr.int, split: attr.ints, num_outputs: attr.int }, (ctx) => {
  const { t, shape } = ranked(ctx, 0, 'the split operand');
  const a = normalizeAxis(ctx, ctx.int('axis', 0), shape.length);
  const n = ctx.numOutputs;
  const d = shape[a]!;
  // Opset 1 took `split` as an attribute or an optional operand; 2–12 as an attribute; 13+ as an operand.
  const sizes = ctx.opset < 2 && ctx.has(1) ? { present: true, values: knownValues(ctx, 1) } : attrOrInput(ctx, 'split', 1, 13);
  let parts: Dim[];
  if (sizes.present) {
    if (sizes.values && sizes.values.length !== n) ctx.fail(`split has ${sizes.values.length} sizes for ${n} results`);
    parts = sizes.values ? [...sizes.values] : unknownDims(n)!.slice();
    const sum = parts.reduce<Dim>((s, x) => dimAdd(s, x), 0);
    if (typeof sum === 'number' && typeof d === 'number' && sum !== d) ctx.fail(`split sizes sum to ${sum}, but axis ${a} has ${d}`);
  } else if (ctx.attr('num_outputs')) {
    if (ctx.int('num_outputs') !== n) ctx.fail(`num_outputs is ${ctx.int('num_outputs')} but the node has ${n} results`);
    const chunk = typeof d === 'number' ? Math.ceil(d / n) : null;
    parts = Array.from({ length: n }, (_, i) =>
      n === 1 ? d : chunk === null ? null : i < n - 1 ? chunk : (d as number) - chunk * (n - 1));
  } else {
    if (typeof d === 'number' && d % n !== 0) ctx.fail(`axis ${a} of size ${d} does not split into ${n} equal parts`);
    parts = Array.from({ length: n }, () => (n === 1 ? d : typeof d === 'number' ? d / n : null));
  }
  return parts.map((p) => tensor(t.dtype, shape.map((x, i) => (i === a ? p : x))));
});

/** Start and count of a slice of a dim of known size, clamped as ONNX does. */
function sliceRange(d: number, start: number, end: number, step: number): { first: number; count: number } {
  const norm = (v: number) => (v < 0 ? v + d : v);
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(norm(start), 0, d);
    const e = clamp(norm(end), 0, d);
    return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  const s = clamp(norm(start), 0, d - 1);
  const e = clamp(norm(end), -1, d - 1);
  return { first: s, count: Math.max(0, Math.ceil((s - e) / -step)) };
}

/** The sliced size of one dim; symbols survive only a whole-axis slice. */
function sliceDim(ctx: InferContext, d: Dim, start: Dim, end: Dim, step: Dim): Dim {
  if (step === 0) ctx.fail('slice step cannot be 0');
  if (typeof start !== 'number' || typeof step !== 'number') return null;
  if (typeof d === 'number' && typeof end === 'number') return sliceRange(d, start, end, step).count;
  // x[:n] with n a run-time size (a causal mask cut to `seq`): exports rely on n fitting the
  // axis, so take n rather than min(n, d), as symbolic shape inference in ORT does too.
  if (step === 1 && start === 0 && typeof end === 'string') return end;
  const whole = step === 1 ? start === 0 && (end === d || (typeof end === 'number' && end >= 2 ** 31 - 1))
    : step === -1 && start === -1 && typeof end === 'number' && end <= -HUGE;
  return whole ? d : null;
}

interface SliceParams { starts?: readonly Dim[]; ends?: readonly Dim[]; axes?: readonly Dim[]; steps?: readonly Dim[] }

function sliceParams(ctx: InferContext, rank: number | undefined): SliceParams {
  if (ctx.opset < 10) {
    if (ctx.numInputs > 1) ctx.fail(`Slice takes starts/ends as operands only from opset 10 (model is at ${ctx.opset})`);
    const starts = ctx.ints('starts');
    return { starts, ends: ctx.ints('ends'), axes: ctx.ints('axes', starts.map((_, i) => i)), steps: starts.map(() => 1) };
  }
  for (const name of ['starts', 'ends', 'axes']) if (ctx.attr(name)) ctx.fail(`attribute '${name}' became an operand at opset 10`);
  for (let i = 1; i < 5; i++) if (ctx.has(i)) expectDType(ctx, i, INDEX);
  const starts = knownValues(ctx, 1);
  const n = starts?.length ?? knownLength(ctx, 1);
  const dflt = (v: (i: number) => number) => (n === undefined ? undefined : Array.from({ length: n }, (_, i) => v(i)));
  const axes = ctx.has(3) ? knownValues(ctx, 3) : rank === undefined ? undefined : dflt((i) => i);
  return { starts, ends: knownValues(ctx, 2), axes, steps: ctx.has(4) ? knownValues(ctx, 4) : dflt(() => 1) };
}

onnxOp('Slice', between(1, 5), exactly(1), { starts: attr.ints, ends: attr.ints, axes: attr.ints }, (ctx) => {
  const t = ctx.tensor(0);
  if (t.shape === null) return [tensor(t.dtype, null)];
  const shape = t.shape;
  const p = sliceParams(ctx, shape.length);
  if (!p.axes || p.axes.some((a) => typeof a !== 'number')) return [tensor(t.dtype, unknownDims(shape.length))];
  const axes = normalizeAxes(ctx, p.axes as number[], shape.length);
  const out = [...shape];
  axes.forEach((a, k) => {
    out[a] = p.starts && p.ends && p.steps ? sliceDim(ctx, shape[a]!, p.starts[k]!, p.ends[k]!, p.steps[k]!) : null;
  });
  return [tensor(t.dtype, out)];
}, (ctx) => {
  const v = ctx.values(0);
  if (!v || ctx.tensor(0).shape?.length !== 1) return undefined;
  const p = sliceParams(ctx, 1);
  const nums = [p.starts, p.ends, p.axes, p.steps].map((x) => (x?.length === 1 && typeof x[0] === 'number' ? x[0] : undefined));
  if (nums.includes(undefined)) return undefined;
  const [start, end, axis, step] = nums as number[];
  if ((axis !== 0 && axis !== -1) || step === 0) return undefined;
  const { first, count } = sliceRange(v.length, start!, end!, step!);
  return Array.from({ length: count }, (_, i) => v[first + i * step!]!);
});

onnxOp('Tile', between(2, 3), exactly(1), {}, (ctx) => {
  const t = ctx.tensor(0);
  if (ctx.opset < 6) {
    // Tile-1: a scalar `tiles` count along the scalar `axis` operand.
    const tiles = knownNumbers(ctx, 1)?.[0];
    const axis = knownNumbers(ctx, 2)?.[0];
    if (t.shape === null) return [tensor(t.dtype, null)];
    if (axis === undefined) return [tensor(t.dtype, unknownDims(t.shape.length))];
    const a = normalizeAxis(ctx, axis, t.shape.length);
    return [tensor(t.dtype, t.shape.map((d, i) => (i === a ? (tiles === undefined ? null : dimMul(d, tiles)) : d)))];
  }
  if (ctx.numInputs > 2) ctx.fail('takes 2 operands from opset 6');
  expectDType(ctx, 1, ['i64']);
  const reps = knownValues(ctx, 1);
  if (t.shape === null) return [tensor(t.dtype, null)];
  if (!reps) return [tensor(t.dtype, unknownDims(t.shape.length))];
  if (reps.length !== t.shape.length) ctx.fail(`repeats has ${reps.length} entries for rank ${t.shape.length}`);
  return [tensor(t.dtype, t.shape.map((d, i) => dimMul(d, reps[i]!)))];
});

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'];

onnxOp(
  'Pad',
  between(1, 4),
  exactly(1),
  { mode: attr.string, pads: attr.ints, paddings: attr.ints, value: attr.float },
  (ctx) => {
    const t = ctx.tensor(0);
    const mode = ctx.string('mode', 'constant');
    if (!PAD_MODES.includes(mode)) ctx.fail(`mode '${mode}' is not one of ${PAD_MODES.join(', ')}`);
    let pads: readonly Dim[] | undefined;
    let axes: readonly Dim[] | undefined;
    if (ctx.opset < 11) {
      if (ctx.numInputs > 1) ctx.fail(`Pad takes pads as an operand only from opset 11 (model is at ${ctx.opset})`);
      pads = ctx.opset < 2 ? ctx.ints('paddings') : ctx.ints('pads');
    } else {
      for (const name of ['pads', 'paddings', 'value']) if (ctx.attr(name)) ctx.fail(`attribute '${name}' became an operand at opset 11`);
      expectDType(ctx, 1, ['i64']);
      if (ctx.has(2)) sameDType(ctx, [0, 2]);
      pads = knownValues(ctx, 1);
      if (ctx.has(3)) axes = knownValues(ctx, 3) ?? [];
    }
    if (t.shape === null) return [tensor(t.dtype, null)];
    const r = t.shape.length;
    if (axes && axes.some((a) => typeof a !== 'number')) return [tensor(t.dtype, unknownDims(r))];
    const ax = axes ? normalizeAxes(ctx, axes as number[], r) : t.shape.map((_, i) => i);
    if (!pads) return [tensor(t.dtype, t.shape.map((d, i) => (ax.includes(i) ? null : d)))];
    if (pads.length !== 2 * ax.length) ctx.fail(`pads has ${pads.length} entries; ${2 * ax.length} are needed`);
    const out = [...t.shape];
    ax.forEach((a, k) => {
      const b = pads![k]!;
      const e = pads![k + ax.length]!;
      out[a] = typeof b === 'number' && typeof e === 'number' ? padDim(ctx, out[a]!, b + e) : null;
    });
    return [tensor(t.dtype, out)];
  },
);

function padDim(ctx: InferContext, d: Dim, delta: number): Dim {
  if (delta === 0) return d;
  if (typeof d !== 'number') return null;
  if (d + delta < 0) ctx.fail(`padding by ${delta} leaves a negative size from ${d}`);
  return d + delta;
}

/** floor(d * scale); a symbol survives only scale 1. */
function scaleDim(d: Dim, s: number): Dim {
  if (s === 1) return d;
  return typeof d === 'number' ? Math.floor(d * s) : null;
}

const RESIZE_MODES = ['nearest', 'linear', 'cubic', 'bilinear', 'trilinear'];

onnxOp(
  'Resize',
  between(1, 4),
  exactly(1),
  {
    mode: attr.string, coordinate_transformation_mode: attr.string, cubic_coeff_a: attr.float,
    exclude_outside: attr.int, extrapolation_value: attr.float, nearest_mode: attr.string,
    antialias: attr.int, axes: attr.ints, keep_aspect_ratio_policy: attr.string,
  },
  (ctx) => {
    const t = ctx.tensor(0);
    const mode = ctx.string('mode', 'nearest');
    if (!RESIZE_MODES.includes(mode)) ctx.fail(`mode '${mode}' is not one of nearest, linear, cubic`);
    // Opset 10: (X, scales). Opset 11+: (X, roi, scales, sizes), the unused one empty or omitted.
    const [si, zi] = ctx.opset < 11 ? [1, -1] : [2, 3];
    if (ctx.opset < 11 && ctx.numInputs !== 2) ctx.fail('takes (X, scales) at opset 10');
    const given = (i: number) => i >= 0 && ctx.has(i) && knownLength(ctx, i) !== 0;
    if (t.shape === null) return [tensor(t.dtype, null)];
    const r = t.shape.length;
    const axes = normalizeAxes(ctx, ctx.ints('axes', t.shape.map((_, i) => i)), r);
    const out = [...t.shape];
    if (given(zi)) {
      expectDType(ctx, zi, ['i64']);
      const sizes = knownValues(ctx, zi);
      if (!sizes) return [tensor(t.dtype, t.shape.map((d, i) => (axes.includes(i) ? null : d)))];
      if (sizes.length !== axes.length) ctx.fail(`sizes has ${sizes.length} entries for ${axes.length} axes`);
      const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
      if (policy === 'stretch') axes.forEach((a, k) => (out[a] = sizes[k]!));
      else {
        const ratios = axes.map((a, k) => {
          const s = sizes[k];
          const d = t.shape![a];
          return typeof s === 'number' && typeof d === 'number' ? s / d : null;
        });
        const known = ratios.every((x): x is number => x !== null);
        const scale = known ? (policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios)) : 0;
        axes.forEach((a) => (out[a] = known ? Math.floor((t.shape![a] as number) * scale + 0.5) : null));
      }
    } else if (given(si)) {
      expectDType(ctx, si, ['f32', 'f16', 'f64', 'bf16']);
      const scales = knownNumbers(ctx, si);
      if (!scales) return [tensor(t.dtype, t.shape.map((d, i) => (axes.includes(i) ? null : d)))];
      if (scales.length !== axes.length) ctx.fail(`scales has ${scales.length} entries for ${axes.length} axes`);
      axes.forEach((a, k) => (out[a] = scaleDim(t.shape![a]!, scales[k]!)));
    } else ctx.fail('needs either scales or sizes');
    return [tensor(t.dtype, out)];
  },
);

onnxOp(
  'Upsample',
  between(1, 2),
  exactly(1),
  { mode: attr.string, scales: attr.floats, height_scale: attr.float, width_scale: attr.float },
  (ctx) => {
    const t = ctx.tensor(0);
    let scales: readonly number[] | undefined;
    if (ctx.opset < 7) {
      if (t.shape && t.shape.length !== 4) ctx.fail('Upsample-1 takes a 4-D operand');
      scales = [1, 1, ctx.float('height_scale'), ctx.float('width_scale')];
    } else if (ctx.opset < 9) scales = ctx.floats('scales');
    else scales = knownNumbers(ctx, 1);
    if (t.shape === null) return [tensor(t.dtype, null)];
    if (!scales) return [tensor(t.dtype, unknownDims(t.shape.length))];
    if (scales.length !== t.shape.length) ctx.fail(`scales has ${scales.length} entries for rank ${t.shape.length}`);
    return [tensor(t.dtype, t.shape.map((d, i) => scaleDim(d, scales![i]!)))];
  },
);

/** DepthToSpace / SpaceToDepth: [N, C, H, W] with C traded against H and W by blocksize². */
function blockShuffle(ctx: InferContext, toSpace: boolean) {
  const { t, shape } = ranked(ctx, 0, 'the operand');
  if (shape.length !== 4) ctx.fail(`takes a 4-D operand, got rank ${shape.length}`);
  const b = ctx.int('blocksize');
  if (b <= 0) ctx.fail(`blocksize ${b} must be positive`);
  const [n, c, h, w] = shape;
  if (toSpace) {
    if (typeof c === 'number' && c % (b * b) !== 0) ctx.fail(`channels ${c} are not divisible by blocksize² ${b * b}`);
    return [tensor(t.dtype, [n!, typeof c === 'number' ? c / (b * b) : b === 1 ? c! : null, dimMul(h!, b), dimMul(w!, b)])];
  }
  for (const d of [h, w]) if (typeof d === 'number' && d % b !== 0) ctx.fail(`spatial size ${d} is not divisible by blocksize ${b}`);
  const div = (d: Dim) => (typeof d === 'number' ? d / b : b === 1 ? d : null);
  return [tensor(t.dtype, [n!, dimMul(c!, b * b), div(h!), div(w!)])];
}

onnxOp('DepthToSpace', exactly(1), exactly(1), { blocksize: { kind: 'int', required: true }, mode: attr.string }, (ctx) => {
  const mode = ctx.string('mode', 'DCR');
  if (mode !== 'DCR' && mode !== 'CRD') ctx.fail(`mode '${mode}' is not DCR or CRD`);
  return blockShuffle(ctx, true);
});
onnxOp('SpaceToDepth', exactly(1), exactly(1), { blocksize: { kind: 'int', required: true } }, (ctx) => blockShuffle(ctx, false));

onnxOp('ReverseSequence', exactly(2), exactly(1), { batch_axis: attr.int, time_axis: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  expectDType(ctx, 1, ['i64']);
  if (t.shape !== null) {
    if (t.shape.length < 2) ctx.fail('takes an operand of rank 2 or more');
    const b = normalizeAxis(ctx, ctx.int('batch_axis', 1), t.shape.length);
    const tm = normalizeAxis(ctx, ctx.int('time_axis', 0), t.shape.length);
    if (b > 1 || tm > 1 || b === tm) ctx.fail('batch_axis and time_axis must be 0 and 1 in some order');
  }
  return [t];
});

onnxOp('CenterCropPad', exactly(2), exactly(1), { axes: attr.ints }, (ctx) => {
  const t = ctx.tensor(0);
  expectDType(ctx, 1, INDEX);
  if (t.shape === null) return [tensor(t.dtype, null)];
  const axes = normalizeAxes(ctx, ctx.ints('axes', t.shape.map((_, i) => i)), t.shape.length);
  const sizes = knownValues(ctx, 1);
  if (sizes && sizes.length !== axes.length) ctx.fail(`shape has ${sizes.length} entries for ${axes.length} axes`);
  const out = [...t.shape];
  axes.forEach((a, k) => (out[a] = sizes ? sizes[k]! : null));
  return [tensor(t.dtype, out)];
});

onnxOp('Compress', exactly(2), exactly(1), { axis: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  expectDType(ctx, 1, ['bool']);
  const kept = ctx.freshDim('compress');
  if (!ctx.attr('axis')) return [tensor(t.dtype, [kept])];
  if (t.shape === null) return [tensor(t.dtype, null)];
  const a = normalizeAxis(ctx, ctx.int('axis'), t.shape.length);
  return [tensor(t.dtype, t.shape.map((d, i) => (i === a ? kept : d)))];
});
