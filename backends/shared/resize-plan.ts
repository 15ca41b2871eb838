// The host-side plan of Resize (opsets 10–19) and Upsample (7, 9), shared by the WGSL and CUDA
// lowerings: attribute parsing and checks, which operands are known when compiling and which the
// kernel reads, and per axis of X where its scale and roi come from (or that it is the identity).
// It names no kernel text: each backend turns a ResizeAxis into its own expressions (uniforms or
// literals, buffer reads), so both backends accept and reject the same models and agree on which
// axes are skipped.
import { fromConst, toNumbers } from '../../ir/interp/tensor.ts';
import { numElements } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

/** An operand as the lowering sees it: omitted (or empty), known values, or read at run time. */
export type ResizeSrc = { kind: 'none' } | { kind: 'const'; v: number[] } | { kind: 'runtime'; t: StaticTensor };

export function resizeOperand(ctx: CoreContext<unknown>, i: number): ResizeSrc {
  if (!ctx.node.inputs[i]) return { kind: 'none' };
  const t = ctx.input(i)!;
  if (numElements(t.shape) === 0) return { kind: 'none' };
  const c = ctx.constant(i);
  return c ? { kind: 'const', v: toNumbers(fromConst(c)) } : { kind: 'runtime', t };
}

/**
 * Where a resized (non-identity) axis gets its values. `scale`: a number known when compiling,
 * element `index` of the computed scales operand, or the shared `kscale` computed once from
 * computed sizes. `roiAt`: the roi's start and end are read from the computed roi operand at
 * these elements; otherwise a host axis's roi is `roi` (or [0, 1]) and a computed one's [0, 1].
 */
export interface ResizeAxis {
  readonly scale: number | { readonly index: number } | 'kscale';
  readonly roi?: [number, number];
  readonly roiAt?: [number, number];
}

/** A computed operand the kernel reads, in binding order. */
export interface ResizeBuffer {
  readonly name: 'scales' | 'roi' | 'sizes';
  readonly t: StaticTensor;
}

export interface ResizePlan {
  mode: ResizeMode;
  coord: string;
  /** nearest_mode, or 'legacy' (Upsample / Resize-10). */
  nearest: string;
  cubicA: number;
  exclude: boolean;
  antialias: boolean;
  extrapolation: number;
  /** Per axis of X: undefined where the resize is the identity. */
  axes: (ResizeAxis | undefined)[];
  /** Host-known scales and roi per axis (1, 0, 1 where the kernel reads them otherwise). */
  scale: number[];
  roiStart: number[];
  roiEnd: number[];
  buffers: ResizeBuffer[];
  /** A shared scale from computed sizes (keep_aspect_ratio_policy): fn over sizes[index] / inLen. */
  kscale?: { fn: 'min' | 'max'; ratios: { index: number; inLen: number }[] };
}

export function resizeModeOf(ctx: CoreContext<unknown>): ResizeMode {
  const m = ctx.string('mode', 'nearest').toLowerCase();
  if (m === 'nearest') return 'nearest';
  if (m === 'linear' || m === 'bilinear' || m === 'trilinear') return 'linear';
  if (m === 'cubic' || m === 'bicubic') return 'cubic';
  return ctx.unsupported(`unknown resize mode '${m}'`);
}

const COORDS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

/**
 * Whether an axis with a host-known scale is the identity: scale 1 and the same length map every
 * coordinate mode but tf_half_pixel_for_nn (x + 0.5) to x exactly, and tf_crop_and_resize too
 * where its roi is [0, 1]; then every mode's taps are x with weight 1.
 */
function isIdentity(coord: string, inLen: number, outLen: number, scale: number, roi?: [number, number]): boolean {
  if (scale !== 1 || inLen !== outLen || coord === 'tf_half_pixel_for_nn') return false;
  return coord !== 'tf_crop_and_resize' || (roi !== undefined && roi[0] === 0 && roi[1] === 1);
}

function emptyPlan(r: number, o: Pick<ResizePlan, 'mode' | 'coord' | 'nearest' | 'cubicA' | 'exclude' | 'antialias' | 'extrapolation'>): ResizePlan {
  return {
    ...o,
    axes: new Array<ResizeAxis | undefined>(r).fill(undefined),
    scale: new Array<number>(r).fill(1),
    roiStart: new Array<number>(r).fill(0),
    roiEnd: new Array<number>(r).fill(1),
    buffers: [],
  };
}

/** Axis d with a scale known when compiling; `roi` known values, `roiAt` read from the roi buffer. */
function hostAxis(p: ResizePlan, d: number, scale: number, inLen: number, outLen: number, roi?: [number, number], roiAt?: [number, number]): void {
  p.scale[d] = scale;
  if (roi) [p.roiStart[d], p.roiEnd[d]] = roi;
  if (isIdentity(p.coord, inLen, outLen, scale, roiAt === undefined ? (roi ?? [0, 1]) : undefined)) return;
  p.axes[d] = { scale, roi, roiAt };
}

/**
 * Axis d whose scale the kernel computes. A known roi is not passed on here (the kernel then uses
 * [0, 1]), as both lowerings did before this plan was shared.
 */
function runtimeAxis(p: ResizePlan, d: number, scale: { index: number } | 'kscale', roiAt?: [number, number]): void {
  p.axes[d] = { scale, roiAt };
}

/** Upsample and Resize-10: scales for every axis, asymmetric coordinates, legacy nearest. */
export function legacyResizePlan(ctx: CoreContext<unknown>, x: StaticTensor, y: StaticTensor, scales: ResizeSrc): ResizePlan {
  const r = x.shape.length;
  const plan = emptyPlan(r, { mode: resizeModeOf(ctx), coord: 'asymmetric', nearest: 'legacy', cubicA: -0.75, exclude: false, antialias: false, extrapolation: 0 });
  if (scales.kind === 'none') return ctx.unsupported(`${ctx.node.op} needs scales`);
  if (scales.kind === 'const') {
    if (scales.v.length !== r) return ctx.unsupported(`${scales.v.length} scales for rank ${r}`);
    scales.v.forEach((s, d) => hostAxis(plan, d, s, x.shape[d]!, y.shape[d]!));
  } else {
    if (numElements(scales.t.shape) !== r) return ctx.unsupported(`${numElements(scales.t.shape)} scales for rank ${r}`);
    plan.buffers.push({ name: 'scales', t: scales.t });
    for (let d = 0; d < r; d++) runtimeAxis(plan, d, { index: d });
  }
  return plan;
}

/** Resize-11 and later: roi, scales or sizes, the attributes of opsets 11, 13, 18 and 19. */
export function resizePlan(ctx: CoreContext<unknown>, x: StaticTensor, y: StaticTensor): ResizePlan {
  const r = x.shape.length;
  const coord = ctx.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORDS.includes(coord)) return ctx.unsupported(`unknown coordinate_transformation_mode '${coord}'`);
  const nearest = ctx.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest)) return ctx.unsupported(`unknown nearest_mode '${nearest}'`);
  const plan = emptyPlan(r, {
    mode: resizeModeOf(ctx), coord, nearest, cubicA: ctx.float('cubic_coeff_a', -0.75),
    exclude: ctx.int('exclude_outside', 0) !== 0, antialias: ctx.int('antialias', 0) !== 0,
    extrapolation: ctx.float('extrapolation_value', 0),
  });
  const axesList = ctx.attr('axes') ? ctx.ints('axes').map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
  const k = axesList.length;
  const scales = resizeOperand(ctx, 2);
  const sizes = resizeOperand(ctx, 3);
  if ((scales.kind === 'none') === (sizes.kind === 'none')) return ctx.unsupported('Resize takes exactly one of scales and sizes');
  const count = (s: ResizeSrc) => (s.kind === 'const' ? s.v.length : s.kind === 'runtime' ? numElements(s.t.shape) : 0);
  const given = scales.kind === 'none' ? 'sizes' : 'scales';
  const m = count(scales.kind === 'none' ? sizes : scales);
  if (m !== k) return ctx.unsupported(`${m} ${given} for ${k} axes`);
  if (scales.kind === 'runtime') plan.buffers.push({ name: 'scales', t: scales.t });

  // The roi matters only to tf_crop_and_resize: [starts…, ends…] over the listed axes.
  let roiConst: number[] | undefined;
  let roiRuntime = false;
  if (coord === 'tf_crop_and_resize') {
    const roi = resizeOperand(ctx, 1);
    if (count(roi) !== 2 * k) return ctx.unsupported(`tf_crop_and_resize needs roi of ${2 * k} values`);
    if (roi.kind === 'const') roiConst = roi.v;
    else if (roi.kind === 'runtime') {
      plan.buffers.push({ name: 'roi', t: roi.t });
      roiRuntime = true;
    }
  }
  const roiOf = (i: number): { roi?: [number, number]; roiAt?: [number, number] } =>
    roiConst ? { roi: [roiConst[i]!, roiConst[i + k]!] } : roiRuntime ? { roiAt: [i, i + k] } : {};

  const listed = new Map(axesList.map((ax, i) => [ax, i]));
  const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
  if (sizes.kind !== 'none' && policy !== 'stretch' && policy !== 'not_larger' && policy !== 'not_smaller') {
    return ctx.unsupported(`unknown keep_aspect_ratio_policy '${policy}'`);
  }
  // A shared scale from computed sizes (keep_aspect_ratio_policy) is computed once as `kscale`.
  if (sizes.kind === 'runtime' && policy !== 'stretch') {
    plan.buffers.push({ name: 'sizes', t: sizes.t });
    plan.kscale = { fn: policy === 'not_larger' ? 'min' : 'max', ratios: axesList.map((ax, i) => ({ index: i, inLen: x.shape[ax]! })) };
  }
  let shared: number | undefined;
  if (sizes.kind === 'const' && policy !== 'stretch') {
    const ratios = axesList.map((ax, i) => sizes.v[i]! / x.shape[ax]!);
    shared = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
  }

  for (let d = 0; d < r; d++) {
    const i = listed.get(d);
    const inLen = x.shape[d]!;
    const outLen = y.shape[d]!;
    if (i === undefined) {
      hostAxis(plan, d, 1, inLen, outLen);
      continue;
    }
    const { roi, roiAt } = roiOf(i);
    if (scales.kind === 'const') {
      const s = scales.v[i]!;
      if (!(s > 0)) return ctx.unsupported(`scale ${s} must be positive`);
      hostAxis(plan, d, s, inLen, outLen, roi, roiAt);
    } else if (scales.kind === 'runtime') {
      runtimeAxis(plan, d, { index: i }, roiAt);
    } else if (policy === 'stretch') {
      // The result's length is the requested size, so the scale is known from the static shapes.
      hostAxis(plan, d, outLen / inLen, inLen, outLen, roi, roiAt);
    } else if (shared !== undefined) {
      hostAxis(plan, d, shared, inLen, outLen, roi, roiAt);
    } else {
      runtimeAxis(plan, d, 'kscale', roiAt);
    }
  }
  return plan;
}

/**
 * The plan of a Resize or Upsample node of any opset: Resize-10 and Upsample share the legacy
 * plan (Upsample-7 with its scales attribute, Upsample-9 and Resize-10 with a scales operand).
 */
export function resizeNodePlan(ctx: CoreContext<unknown>, x: StaticTensor, y: StaticTensor): ResizePlan {
  if (ctx.node.op === 'Resize') return ctx.opset < 11 ? legacyResizePlan(ctx, x, y, resizeOperand(ctx, 1)) : resizePlan(ctx, x, y);
  // Upsample-1's height_scale / width_scale are not evaluated by the interpreter (the oracle).
  if (ctx.opset < 7) return ctx.unsupported('Upsample before opset 7 (height_scale / width_scale)');
  const scales: ResizeSrc = ctx.opset < 9 ? { kind: 'const', v: [...ctx.floats('scales')] } : resizeOperand(ctx, 1);
  return legacyResizePlan(ctx, x, y, scales);
}
