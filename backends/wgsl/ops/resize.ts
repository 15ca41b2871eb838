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
import type { ResizePlan } from '../../shared/resize-plan.ts';
import { resizeNodePlan } from '../../shared/resize-plan.ts';
import { IndexSpace, numElements, stridesOf } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import { uniformAt } from '../uniforms.ts';
import { readVar, writeVar } from './common.ts';

const WG = 64;

/** How a resized axis reads its scale and roi: WGSL f32 expressions. */
interface AxisExpr {
  scale: string;
  roiStart: string;
  roiEnd: string;
}

/** The shared plan (../../shared/resize-plan.ts) with its axes as WGSL expressions. */
interface Plan extends Omit<ResizePlan, 'axes'> {
  /** Per axis of X: undefined where the resize is the identity. */
  axes: (AxisExpr | undefined)[];
  /** Buffers of computed operands, and WGSL lines run once before the axes (a shared scale). */
  vars: BoundVar[];
  pre: string[];
  /** Part of the kernel key: where each axis's values come from. */
  srcKey: string;
}

/**
 * Known scales and roi are read from the uniforms (the plan's scale / roiStart / roiEnd), so
 * kernels differing only in them share text; computed ones are buffer reads.
 */
function wgslPlan(ctx: LowerContext, sp: ResizePlan): Plan {
  const pre: string[] = [];
  if (sp.kscale) {
    const ratios = sp.kscale.ratios.map(({ index, inLen }) => `f32(sizes[${index}]) / ${inLen.toFixed(1)}`);
    pre.push(`let kscale = ${ratios.reduce((a, b) => `${sp.kscale!.fn}(${a}, ${b})`)};`);
  }
  let srcKey = '';
  const axes = sp.axes.map((a, d): AxisExpr | undefined => {
    if (!a) {
      srcKey += 'i';
      return undefined;
    }
    const host = typeof a.scale === 'number';
    srcKey += (host ? 'h' : 'r') + (a.roiAt ? 'r' : '');
    const scale = typeof a.scale === 'number' ? uniformAt('scale', d) : a.scale === 'kscale' ? 'kscale' : `f32(scales[${a.scale.index}])`;
    return {
      scale,
      roiStart: a.roiAt ? `f32(roi[${a.roiAt[0]}])` : uniformAt('roi_s', d),
      roiEnd: a.roiAt ? `f32(roi[${a.roiAt[1]}])` : uniformAt('roi_e', d),
    };
  });
  return { ...sp, axes, vars: sp.buffers.map((b) => readVar(ctx, b.name, b.t)), pre, srcKey };
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

defineOnnxWgsl(['Resize', 'Upsample'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  return resizeKernel(ctx, x, y, wgslPlan(ctx, resizeNodePlan(ctx, x, y)));
});
