// Helpers shared by the math/NN op declarations (activation, reduce, conv, rnn, ...): symbolic
// dim arithmetic, attribute-or-input reads that depend on the opset, dtype attributes, and the
// spatial output-size rules of convolution and pooling.
import type { DType } from '../dtype.ts';
import { dtypeFromOnnx, FLOATS, INTS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import type { Dim, Shape, TensorType } from '../types.ts';

/** Numeric types the ONNX integer ops accept, floats first (T in most NN ops). */
export const NUMERIC_T: readonly DType[] = [...FLOATS, ...INTS];

export const fmt = (s: Shape): string => (s === null ? '[*]' : `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`);

/** Apply integer arithmetic to a dim: known sizes compute, symbols and unknowns become unknown. */
export function dimMap(d: Dim, f: (n: number) => number): Dim {
  return typeof d === 'number' ? f(d) : null;
}

/**
 * Merge two dims that must be equal (e.g. MatMul inner dims): fails on two different sizes,
 * otherwise returns the more precise one. `what` names them in the message.
 */
export function unifyDim(ctx: InferContext, a: Dim, b: Dim, what: string): Dim {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) ctx.fail(`${what} differ: ${a} vs ${b}`);
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return a ?? b;
}

/** The tensor's shape, or a failure naming `what` when its rank is unknown. */
export function shapeOf(ctx: InferContext, t: TensorType, what: string): readonly Dim[] {
  if (t.shape === null) ctx.fail(`${what} must have a known rank`);
  return t.shape;
}

/** Require a known rank equal to `rank` (or in `[min, max]`). */
export function expectRank(ctx: InferContext, t: TensorType, what: string, min: number, max = min): void {
  if (t.shape === null) return;
  const r = t.shape.length;
  if (r < min || r > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    ctx.fail(`${what} must have rank ${want}, got ${fmt(t.shape)}`);
  }
}

/** An ONNX data-type-code attribute as a lathe dtype (Cast's `to`, `dtype`, `output_datatype`). */
export function dtypeAttr(ctx: InferContext, name: string, dflt: DType): DType {
  const a = ctx.attr(name);
  if (!a) return dflt;
  const d = dtypeFromOnnx(ctx.int(name));
  if (typeof d !== 'string') ctx.fail(`attribute '${name}': ${d.unsupported}`);
  return d;
}

/**
 * A value that ONNX moved from an attribute to an input at opset `since`: reads the input
 * (index `input`) from then on and the attribute before, and rejects the wrong form so a model
 * mixing them fails loudly. Returns the contents when known; `undefined` when unknown; `null`
 * when neither form is present.
 */
export function attrOrInput(
  ctx: InferContext,
  attr: string,
  input: number,
  since: number,
): readonly Dim[] | undefined | null {
  if (ctx.opset >= since) {
    if (ctx.attr(attr)) ctx.fail(`attribute '${attr}' became input ${input} at opset ${since} (model is at opset ${ctx.opset})`);
    if (!ctx.has(input)) return null;
    return ctx.values(input);
  }
  if (ctx.has(input)) ctx.fail(`input ${input} ('${attr}') needs opset ${since} or later (model is at opset ${ctx.opset})`);
  const a = ctx.attr(attr);
  if (!a) return null;
  if (a.kind === 'ints') return a.value;
  if (a.kind === 'int') return [a.value];
  return undefined;
}

/** A known scalar integer operand (or 1-element list), else undefined. */
export function scalarValue(ctx: InferContext, i: number): Dim | undefined {
  if (!ctx.has(i)) return undefined;
  const v = ctx.values(i);
  return v && v.length === 1 ? v[0] : undefined;
}

export interface SpatialParams {
  kernel: readonly number[];
  strides: readonly number[];
  dilations: readonly number[];
  /** begin pads then end pads, as ONNX lists them. */
  pads: readonly number[];
  autoPad: string;
}

/**
 * Read kernel_shape/strides/dilations/pads/auto_pad for `n` spatial axes. `kernel` is the
 * kernel shape when the op's weights give it (Conv); pools require the attribute.
 */
export function spatialParams(ctx: InferContext, n: number, kernel?: readonly Dim[]): SpatialParams {
  let ks = ctx.attr('kernel_shape') ? ctx.ints('kernel_shape') : undefined;
  if (!ks) {
    if (!kernel || !kernel.every((d) => typeof d === 'number')) ctx.fail(`kernel_shape is required (the kernel size is not known)`);
    ks = kernel as number[];
  }
  const ones = Array<number>(n).fill(1);
  const strides = ctx.ints('strides', ones);
  const dilations = ctx.ints('dilations', ones);
  const pads = ctx.ints('pads', Array<number>(2 * n).fill(0));
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const check = (name: string, v: readonly number[], len: number) => {
    if (v.length !== len) ctx.fail(`${name} has ${v.length} values; ${len} expected for ${n} spatial axes`);
  };
  check('kernel_shape', ks, n);
  check('strides', strides, n);
  check('dilations', dilations, n);
  check('pads', pads, 2 * n);
  if (strides.some((s) => s <= 0)) ctx.fail(`strides must be positive, got [${strides.join(', ')}]`);
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) ctx.fail(`unknown auto_pad '${autoPad}'`);
  if (autoPad !== 'NOTSET' && ctx.attr('pads') && pads.some((p) => p !== 0)) {
    ctx.fail(`pads and auto_pad=${autoPad} cannot be used together`);
  }
  if (kernel) {
    kernel.forEach((d, i) => {
      if (typeof d === 'number' && d !== ks![i]) ctx.fail(`kernel_shape[${i}] is ${ks![i]} but the weights have ${d}`);
    });
  }
  return { kernel: ks, strides, dilations, pads, autoPad };
}

/** Output size of one spatial axis of a convolution or pooling window. */
export function windowOut(p: SpatialParams, axis: number, input: Dim, ceilMode = false): Dim {
  const n = p.kernel.length;
  const k = (p.kernel[axis]! - 1) * p.dilations[axis]! + 1;
  const s = p.strides[axis]!;
  if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') {
    // SAME pads so that out = ceil(in / stride), whatever the kernel.
    if (typeof input !== 'number') return s === 1 ? input : null;
    return Math.ceil(input / s);
  }
  const pad = p.autoPad === 'VALID' ? 0 : p.pads[axis]! + p.pads[axis + n]!;
  if (typeof input !== 'number') return k === 1 && s === 1 && pad === 0 ? input : null;
  const span = input + pad - k;
  if (span < 0) return -1; // reported by the caller, which knows the op
  return (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
}

/** The spatial output dims, failing clearly when the window does not fit. */
export function windowOutputs(ctx: InferContext, p: SpatialParams, spatial: readonly Dim[], ceilMode = false): Dim[] {
  return spatial.map((d, i) => {
    const o = windowOut(p, i, d, ceilMode);
    if (o !== null && typeof o === 'number' && o < 1) {
      ctx.fail(`spatial axis ${i}: input size ${d} with pads is smaller than the (dilated) kernel ${(p.kernel[i]! - 1) * p.dilations[i]! + 1}`);
    }
    return o;
  });
}

/** Check that `b` (right-aligned) broadcasts onto `a` without changing it (ONNX unidirectional). */
export function expectUnidirectional(ctx: InferContext, a: Shape, b: Shape, what: string): void {
  if (a === null || b === null) return;
  if (b.length > a.length) ctx.fail(`${what} ${fmt(b)} has more axes than ${fmt(a)}`);
  b.forEach((d, i) => {
    const t = a[a.length - b.length + i]!;
    if (typeof d === 'number' && d !== 1 && typeof t === 'number' && d !== t) {
      ctx.fail(`${what} ${fmt(b)} does not broadcast to ${fmt(a)}`);
    }
  });
}

/**
 * Opset 1–6 binary broadcasting: with broadcast=1 the second operand matches a contiguous run
 * of the first's axes starting at `axis` (suffix by default); with broadcast=0 the shapes are
 * equal. The result always has the first operand's shape.
 */
export function legacyBroadcast(ctx: InferContext, a: Shape, b: Shape): Shape {
  if (a === null || b === null) return a;
  if (ctx.int('broadcast', 0) === 0) {
    if (a.length !== b.length) ctx.fail(`shapes ${fmt(a)} and ${fmt(b)} differ and broadcast=0`);
    return a.map((d, i) => unifyDim(ctx, d, b[i]!, `dims at axis ${i}`));
  }
  if (b.length === 0 || (b.length === 1 && b[0] === 1)) return a;
  const start = ctx.attr('axis') ? ctx.int('axis') : a.length - b.length;
  if (start < 0 || start + b.length > a.length) ctx.fail(`${fmt(b)} does not fit into ${fmt(a)} at axis ${start}`);
  b.forEach((d, i) => {
    const t = a[start + i]!;
    if (typeof d === 'number' && typeof t === 'number' && d !== t && d !== 1) {
      ctx.fail(`${fmt(b)} does not broadcast into ${fmt(a)} at axis ${start}`);
    }
  });
  return a;
}
