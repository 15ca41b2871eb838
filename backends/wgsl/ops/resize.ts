// Resize (opsets 10–19) and Upsample (7, 9): one thread per output element, mirroring the
// interpreter (ir/interp/ops/resize.ts). Each resized axis maps its output index to a source
// coordinate (coordinate_transformation_mode, in the same f32 steps as the interpreter, since
// nearest rounding at exact halves depends on them) and from it to taps: one for nearest, two for
// linear, four for cubic, more where antialias widens the filter for downsampling. Linear and
// cubic are separable, so the interpreter's one pass per axis equals the sum over the product of
// the axes' taps, which each thread walks in nested loops (zero weights skipped, as there).
//
// Scales, sizes and roi may be constants (their values become uniforms) or computed: the output
// shape is static once the model is specialized, so a computed operand is read by the kernel from
// its buffer (the conformance models feed them as graph inputs). Axes whose resize is the identity
// (scale 1, same length, a coordinate mode that maps x to x) are known on the host and read the
// output index directly.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { IndexSpace, numElements, stridesOf } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import { uniformAt } from '../uniforms.ts';
import { normAxis, readVar, writeVar } from './common.ts';

const WG = 64;

type Mode = 'nearest' | 'linear' | 'cubic';

/** An operand as the lowering sees it: omitted (or empty), known values, or read at run time. */
type Src = { kind: 'none' } | { kind: 'const'; v: number[] } | { kind: 'runtime'; t: StaticTensor };

function operand(ctx: LowerContext, i: number): Src {
  if (!ctx.node.inputs[i]) return { kind: 'none' };
  const t = ctx.input(i)!;
  if (numElements(t.shape) === 0) return { kind: 'none' };
  const c = ctx.constant(i);
  return c ? { kind: 'const', v: toNumbers(fromConst(c)) } : { kind: 'runtime', t };
}

/** How a resized axis reads its scale and roi: WGSL f32 expressions. */
interface AxisExpr {
  scale: string;
  roiStart: string;
  roiEnd: string;
}

interface Plan {
  mode: Mode;
  coord: string;
  nearest: string;
  cubicA: number;
  exclude: boolean;
  antialias: boolean;
  extrapolation: number;
  /** Per axis of X: undefined where the resize is the identity. */
  axes: (AxisExpr | undefined)[];
  /** Host-known scales and roi (uniforms; 1, 0, 1 where the kernel reads them otherwise). */
  scale: number[];
  roiStart: number[];
  roiEnd: number[];
  /** Buffers of computed operands, and WGSL lines run once before the axes (a shared scale). */
  vars: BoundVar[];
  pre: string[];
  /** Part of the kernel key: where each axis's values come from. */
  srcKey: string;
}

function modeOf(ctx: LowerContext): Mode {
  const m = ctx.string('mode', 'nearest').toLowerCase();
  if (m === 'nearest') return 'nearest';
  if (m === 'linear' || m === 'bilinear' || m === 'trilinear') return 'linear';
  if (m === 'cubic' || m === 'bicubic') return 'cubic';
  return ctx.unsupported(`unknown resize mode '${m}'`);
}

const COORDS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/**
 * Whether an axis with a host-known scale is the identity: scale 1 and the same length map every
 * coordinate mode but tf_half_pixel_for_nn (x + 0.5) to x exactly, and tf_crop_and_resize too
 * where its roi is [0, 1]; then every mode's taps are x with weight 1.
 */
function isIdentity(coord: string, inLen: number, outLen: number, scale: number, roi?: [number, number]): boolean {
  if (scale !== 1 || inLen !== outLen || coord === 'tf_half_pixel_for_nn') return false;
  return coord !== 'tf_crop_and_resize' || (roi !== undefined && roi[0] === 0 && roi[1] === 1);
}

/** Upsample and Resize-10: scales for every axis, asymmetric coordinates, legacy nearest. */
function legacyPlan(ctx: LowerContext, x: StaticTensor, y: StaticTensor, scales: Src): Plan {
  const r = x.shape.length;
  const plan = emptyPlan(r, { mode: modeOf(ctx), coord: 'asymmetric', nearest: 'legacy', cubicA: -0.75, exclude: false, antialias: false, extrapolation: 0 });
  if (scales.kind === 'none') return ctx.unsupported(`${ctx.node.op} needs scales`);
  if (scales.kind === 'const') {
    if (scales.v.length !== r) return ctx.unsupported(`${scales.v.length} scales for rank ${r}`);
    scales.v.forEach((s, d) => hostAxis(plan, d, s, x.shape[d]!, y.shape[d]!));
  } else {
    if (numElements(scales.t.shape) !== r) return ctx.unsupported(`${numElements(scales.t.shape)} scales for rank ${r}`);
    plan.vars.push(readVar(ctx, 'scales', scales.t));
    for (let d = 0; d < r; d++) runtimeAxis(plan, d, `f32(scales[${d}])`);
  }
  return plan;
}

function emptyPlan(r: number, o: Pick<Plan, 'mode' | 'coord' | 'nearest' | 'cubicA' | 'exclude' | 'antialias' | 'extrapolation'>): Plan {
  return {
    ...o,
    axes: new Array<AxisExpr | undefined>(r).fill(undefined),
    scale: new Array<number>(r).fill(1),
    roiStart: new Array<number>(r).fill(0),
    roiEnd: new Array<number>(r).fill(1),
    vars: [],
    pre: [],
    srcKey: '',
  };
}

/** Axis d with a scale known when compiling (roi from the uniforms unless `roi` says otherwise). */
function hostAxis(p: Plan, d: number, scale: number, inLen: number, outLen: number, roi?: [number, number], roiExpr?: [string, string]): void {
  p.scale[d] = scale;
  if (roi) [p.roiStart[d], p.roiEnd[d]] = roi;
  const known = roiExpr === undefined;
  if (isIdentity(p.coord, inLen, outLen, scale, known ? (roi ?? [0, 1]) : undefined)) {
    p.srcKey += 'i';
    return;
  }
  p.axes[d] = { scale: uniformAt('scale', d), roiStart: roiExpr?.[0] ?? uniformAt('roi_s', d), roiEnd: roiExpr?.[1] ?? uniformAt('roi_e', d) };
  p.srcKey += known ? 'h' : 'hr';
}

/** Axis d whose scale the kernel reads (a computed scales or sizes operand). */
function runtimeAxis(p: Plan, d: number, scale: string, roiExpr?: [string, string]): void {
  p.axes[d] = { scale, roiStart: roiExpr?.[0] ?? uniformAt('roi_s', d), roiEnd: roiExpr?.[1] ?? uniformAt('roi_e', d) };
  p.srcKey += roiExpr ? 'rr' : 'r';
}

/** Resize-11 and later: roi, scales or sizes, the attributes of opsets 11, 13, 18 and 19. */
function resizePlan(ctx: LowerContext, x: StaticTensor, y: StaticTensor): Plan {
  const r = x.shape.length;
  const coord = ctx.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORDS.includes(coord)) return ctx.unsupported(`unknown coordinate_transformation_mode '${coord}'`);
  const nearest = ctx.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest)) return ctx.unsupported(`unknown nearest_mode '${nearest}'`);
  const plan = emptyPlan(r, {
    mode: modeOf(ctx), coord, nearest, cubicA: ctx.float('cubic_coeff_a', -0.75),
    exclude: ctx.int('exclude_outside', 0) !== 0, antialias: ctx.int('antialias', 0) !== 0,
    extrapolation: ctx.float('extrapolation_value', 0),
  });
  const axesList = ctx.attr('axes') ? ctx.ints('axes').map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
  const k = axesList.length;
  const scales = operand(ctx, 2);
  const sizes = operand(ctx, 3);
  if ((scales.kind === 'none') === (sizes.kind === 'none')) return ctx.unsupported('Resize takes exactly one of scales and sizes');
  const count = (s: Src) => (s.kind === 'const' ? s.v.length : s.kind === 'runtime' ? numElements(s.t.shape) : 0);
  const given = scales.kind === 'none' ? 'sizes' : 'scales';
  const m = count(scales.kind === 'none' ? sizes : scales);
  if (m !== k) return ctx.unsupported(`${m} ${given} for ${k} axes`);
  if (scales.kind === 'runtime') plan.vars.push(readVar(ctx, 'scales', scales.t));

  // The roi matters only to tf_crop_and_resize: [starts…, ends…] over the listed axes.
  let roiConst: number[] | undefined;
  let roiRuntime = false;
  if (coord === 'tf_crop_and_resize') {
    const roi = operand(ctx, 1);
    if (count(roi) !== 2 * k) return ctx.unsupported(`tf_crop_and_resize needs roi of ${2 * k} values`);
    if (roi.kind === 'const') roiConst = roi.v;
    else if (roi.kind === 'runtime') {
      plan.vars.push(readVar(ctx, 'roi', roi.t));
      roiRuntime = true;
    }
  }
  const roiOf = (i: number): { roi?: [number, number]; expr?: [string, string] } =>
    roiConst ? { roi: [roiConst[i]!, roiConst[i + k]!] } : roiRuntime ? { expr: [`f32(roi[${i}])`, `f32(roi[${i + k}])`] } : {};

  const listed = new Map(axesList.map((ax, i) => [ax, i]));
  // A shared scale (keep_aspect_ratio_policy with computed sizes) is computed once as `kscale`.
  const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
  if (sizes.kind !== 'none' && policy !== 'stretch' && policy !== 'not_larger' && policy !== 'not_smaller') {
    return ctx.unsupported(`unknown keep_aspect_ratio_policy '${policy}'`);
  }
  if (sizes.kind === 'runtime' && policy !== 'stretch') {
    plan.vars.push(readVar(ctx, 'sizes', sizes.t));
    const ratios = axesList.map((ax, i) => `f32(sizes[${i}]) / ${(x.shape[ax]!).toFixed(1)}`);
    const fn = policy === 'not_larger' ? 'min' : 'max';
    plan.pre.push(`let kscale = ${ratios.reduce((a, b) => `${fn}(${a}, ${b})`)};`);
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
    const { roi, expr } = roiOf(i);
    if (scales.kind === 'const') {
      const s = scales.v[i]!;
      if (!(s > 0)) return ctx.unsupported(`scale ${s} must be positive`);
      hostAxis(plan, d, s, inLen, outLen, roi, expr);
    } else if (scales.kind === 'runtime') {
      runtimeAxis(plan, d, `f32(scales[${i}])`, expr);
    } else if (policy === 'stretch') {
      // The output length is the requested size, so the scale is known from the static shapes.
      hostAxis(plan, d, outLen / inLen, inLen, outLen, roi, expr);
    } else if (shared !== undefined) {
      hostAxis(plan, d, shared, inLen, outLen, roi, expr);
    } else {
      runtimeAxis(plan, d, 'kscale', expr);
    }
  }
  return plan;
}

/** WGSL: the source coordinate of output position x along an axis (the interpreter's f32 steps). */
function sourceFn(coord: string): string {
  const half = '(x + 0.5) / sc - 0.5';
  const body: Record<string, string> = {
    half_pixel: `return ${half};`,
    half_pixel_symmetric: `let adj = outl / (sc * inl);\n  let off = (inl / 2.0) * (1.0 - adj);\n  return off + (${half});`,
    pytorch_half_pixel: `if (outl > 1.0) { return ${half}; }\n  return 0.0;`,
    // The ONNX reference divides by the unrounded resized length scale·inLen (as the interpreter).
    align_corners: 'if (outl == 1.0) { return 0.0; }\n  return (x * (inl - 1.0)) / (sc * inl - 1.0);',
    asymmetric: 'return x / sc;',
    tf_half_pixel_for_nn: 'return (x + 0.5) / sc;',
    tf_crop_and_resize: 'if (outl > 1.0) { return rs * (inl - 1.0) + ((x * (re - rs)) * (inl - 1.0)) / (outl - 1.0); }\n  return (0.5 * (rs + re)) * (inl - 1.0);',
  };
  return `fn src_coord(x: f32, inl: f32, outl: f32, sc: f32, rs: f32, re: f32) -> f32 {\n  ${body[coord]!}\n}`;
}

/** WGSL: nearest_mode's rounding (halves decided on the exact fraction s − floor(s)). */
function nearestFn(mode: string): string {
  const body: Record<string, string> = {
    round_prefer_floor: 'let f = floor(s);\n  return select(f, f + 1.0, s - f > 0.5);',
    round_prefer_ceil: 'let f = floor(s);\n  return select(f, f + 1.0, s - f >= 0.5);',
    floor: 'return floor(s);',
    ceil: 'return ceil(s);',
    // Upsample and Resize-10 (ONNX Runtime's "simple" mode): ceil when downsampling, else truncate.
    legacy: 'return select(trunc(s), ceil(s), down);',
  };
  return `fn nearest(s: f32, down: bool) -> f32 {\n  ${body[mode]!}\n}`;
}

/** WGSL: the interpolation kernel at distance v (triangle, or Keys' cubic with A = cubic_coeff_a). */
function kernelFn(mode: 'linear' | 'cubic'): string {
  if (mode === 'linear') return 'fn kern(v: f32) -> f32 {\n  return max(0.0, 1.0 - abs(v));\n}';
  return [
    'fn kern(v: f32) -> f32 {',
    '  let a = abs(v);',
    '  let A = u.cubic_a;',
    '  if (a <= 1.0) { return ((A + 2.0) * a - (A + 3.0)) * a * a + 1.0; }',
    '  if (a < 2.0) { return ((A * a - 5.0 * A) * a + 8.0 * A) * a - 4.0 * A; }',
    '  return 0.0;',
    '}',
  ].join('\n');
}

function resizeKernel(ctx: LowerContext, x: StaticTensor, y: StaticTensor, p: Plan): Kernel[] {
  const n = numElements(y.shape);
  if (n === 0) return [];
  if (p.mode !== 'nearest' && (x.dtype === 'bool' || x.dtype === 'string')) return ctx.unsupported(`${p.mode} resize is not defined on ${x.dtype}`);
  // Rank 0 runs as rank 1 (IndexSpace does the same).
  const xs = x.shape.length ? x.shape : [1];
  const ys = y.shape.length ? y.shape : [1];
  const axes = x.shape.length ? p.axes : [undefined];
  const r = xs.length;
  const space = new IndexSpace('o', ys);
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  const xe = xv.binding.elem;
  const ye = yv.binding.elem;
  const isFloat = ye === 'f32' || ye === 'f16';
  const crop = p.coord === 'tf_crop_and_resize';
  const inShape = (d: number) => uniformAt('in_shape', d);
  const stride = (d: number) => uniformAt('in_strides', d);
  const pad = (v: number[], fill: number) => (v.length ? v : [fill]);
  const uniforms: KernelUniform[] = [
    { name: 'n', type: 'u32', value: n },
    ...space.uniforms,
    { name: 'in_shape', type: 'u32', value: [...xs] },
    { name: 'in_strides', type: 'u32', value: stridesOf(xs) },
    { name: 'scale', type: 'f32', value: pad(p.scale, 1) },
    { name: 'roi_s', type: 'f32', value: pad(p.roiStart, 0) },
    { name: 'roi_e', type: 'f32', value: pad(p.roiEnd, 1) },
    { name: 'cubic_a', type: 'f32', value: p.cubicA },
    { name: 'extrap', type: 'f32', value: p.extrapolation },
  ];
  // The extrapolation value stored as Y's element (integers truncated, as the interpreter's
  // typed-array store does).
  const extrap = ye === 'f32' ? 'u.extrap' : `${ye}(u.extrap)`;
  const helpers = [space.helper, sourceFn(p.coord)];
  const body: string[] = ['let o = o_indices(flat);', ...p.pre];
  if (crop) body.push('var outside = false;');
  // Per resized axis: its length, scale and source coordinate s<d> (and, under
  // tf_crop_and_resize, whether s falls outside the input, which writes extrapolation_value).
  axes.forEach((a, d) => {
    if (!a) return;
    body.push(
      `let inl${d} = f32(${inShape(d)});`,
      `let sc${d} = ${a.scale};`,
      `let s${d} = src_coord(f32(o[${d}]), inl${d}, f32(${space.dim(d)}), sc${d}, ${a.roiStart}, ${a.roiEnd});`,
    );
    if (crop) body.push(`if (s${d} < 0.0 || s${d} > inl${d} - 1.0) { outside = true; }`);
  });
  if (p.mode === 'nearest') {
    helpers.push(nearestFn(p.nearest));
    const terms = axes.map((a, d) =>
      a ? `u32(clamp(nearest(s${d}, sc${d} < 1.0), 0.0, inl${d} - 1.0)) * ${stride(d)}` : `o[${d}] * ${stride(d)}`,
    );
    body.push(`let v = x[${terms.join(' + ')}];`);
    body.push(`y[flat] = ${crop ? `select(v, ${extrap}, outside)` : 'v'};`);
  } else {
    helpers.push(kernelFn(p.mode));
    const support = p.mode === 'linear' ? 1 : 2;
    const normalize = p.exclude || p.antialias;
    // The weight of tap t (source index j) of an axis: kern((start + t − fraction)·ks), 0 for a
    // tap outside the input under exclude_outside (the others read the clamped edge).
    helpers.push(
      [
        'fn tap_w(st: i32, t: i32, fr: f32, ks: f32, j: i32, len: i32) -> f32 {',
        p.exclude ? '  if (j < 0 || j >= len) { return 0.0; }' : '',
        '  return kern((f32(st + t) - fr) * ks);',
        '}',
      ].filter((l) => l).join('\n'),
    );
    if (crop) body.push(`if (outside) { y[flat] = ${extrap}; return; }`);
    axes.forEach((a, d) => {
      if (!a) {
        body.push(`let c${d} = o[${d}];`);
        return;
      }
      body.push(`let in${d} = i32(${inShape(d)});`, `let fl${d} = floor(s${d});`, `let fr${d} = s${d} - fl${d};`);
      if (p.antialias) {
        // Antialiasing a downsample widens the support by 1/scale: taps floor(s)+start …
        // floor(s)+start+n−1 with start = floor(−support/ks) + 1 and n = 2 − 2·start.
        body.push(`let ks${d} = select(1.0, sc${d}, sc${d} < 1.0);`, `let st${d} = i32(floor(${-support}.0 / ks${d})) + 1;`);
      } else body.push(`let ks${d} = 1.0;`, `let st${d} = ${1 - support};`);
      body.push(`let nt${d} = 2 - 2 * st${d};`, `let j${d}0 = i32(fl${d}) + st${d};`);
      if (normalize) {
        // Weights renormalized to sum 1 where taps were dropped or the filter widened.
        body.push(
          `var ws${d} = 0.0;`,
          `for (var t = 0; t < nt${d}; t++) { ws${d} += tap_w(st${d}, t, fr${d}, ks${d}, j${d}0 + t, in${d}); }`,
          `let dv${d} = select(1.0, ws${d}, ${p.exclude ? '' : `ks${d} != 1.0 && `}ws${d} != 0.0);`,
        );
      }
    });
    body.push('var acc = 0.0;');
    const open: string[] = [];
    const close: string[] = [];
    let indent = '';
    axes.forEach((a, d) => {
      if (!a) return;
      open.push(
        `${indent}for (var t${d} = 0; t${d} < nt${d}; t${d}++) {`,
        `${indent}  let w${d} = tap_w(st${d}, t${d}, fr${d}, ks${d}, j${d}0 + t${d}, in${d})${normalize ? ` / dv${d}` : ''};`,
        `${indent}  if (w${d} == 0.0) { continue; }`,
        `${indent}  let c${d} = u32(clamp(j${d}0 + t${d}, 0, in${d} - 1));`,
      );
      close.unshift(`${indent}}`);
      indent += '  ';
    });
    const ws = axes.map((a, d) => (a ? `w${d}` : '')).filter((w) => w);
    const at = axes.map((_, d) => `c${d} * ${stride(d)}`).join(' + ');
    const load = xe === 'f32' ? `x[${at}]` : `f32(x[${at}])`;
    body.push(...open, `${indent}acc += ${[...ws, load].join(' * ')};`, ...close);
    // Integer results truncate toward zero (a C cast), as the interpreter stores them.
    body.push(`y[flat] = ${isFloat ? (ye === 'f32' ? 'acc' : 'f16(acc)') : `${ye}(trunc(acc))`};`);
  }
  const what = p.mode === 'nearest' ? 'resize_nearest' : `resize_${p.mode}`;
  return [
    buildKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `${what}/${p.coord}/${p.nearest}/r${r}/${p.srcKey}/${p.exclude ? 'x' : ''}${p.antialias ? 'a' : ''}/${xe}`,
      vars: [xv, yv, ...p.vars],
      uniforms,
      workgroupSize: WG,
      helpers,
      body: [`  let flat = ${threadIndex(WG)};`, '  if (flat >= u.n) { return; }', ...body.map((l) => `  ${l}`)].join('\n'),
      dispatch: elementDispatch(n, WG, ctx.caps),
    }),
  ];
}

defineOnnxWgsl(['Resize'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const plan = ctx.opset < 11 ? legacyPlan(ctx, x, y, operand(ctx, 1)) : resizePlan(ctx, x, y);
  return resizeKernel(ctx, x, y, plan);
});

defineOnnxWgsl(['Upsample'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  // Upsample-1's height_scale / width_scale are not evaluated by the interpreter (the oracle).
  if (ctx.opset < 7) return ctx.unsupported('Upsample before opset 7 (height_scale / width_scale)');
  const scales: Src = ctx.opset < 9 ? { kind: 'const', v: [...ctx.floats('scales')] } : operand(ctx, 1);
  return resizeKernel(ctx, x, y, legacyPlan(ctx, x, y, scales));
});
