// Resize (opsets 10–19) and Upsample (7, 9): one thread per output element, mirroring the
// interpreter (ir/interp/ops/resize.ts) as the WGSL lowering does. Each resized axis maps its
// output index to a source coordinate (coordinate_transformation_mode, in the interpreter's f32
// steps: nearest rounding at exact halves depends on them, so every step is an explicitly rounded
// __f*_rn, never contracted into an fma) and from it to taps: one for nearest, two for linear,
// four for cubic, more where antialias widens the filter for downsampling. Linear and cubic are
// separable, so the interpreter's one f64 pass per axis equals the f64 sum over the product of
// the axes' taps, which each thread walks in nested loops (zero weights skipped, as there).
//
// Scales, sizes and roi may be constants (baked into the text) or computed: the result's shape is
// static once the model is specialized, so a computed operand is read from its buffer. Axes whose
// resize is the identity are known when compiling and read the output index directly.
import type { ResizePlan } from '../../shared/resize-plan.ts';
import { resizeNodePlan } from '../../shared/resize-plan.ts';
import type { CudaBinding, CudaElem } from '../kernel.ts';
import { C_TYPE } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { affine, decompose, elemOf, literal, load, numElements, perElementKernel, readBinding, stridesOf, writeBinding } from './index-util.ts';

/** How a resized axis reads its scale (as float for coordinates, double for the filter) and roi. */
interface AxisExpr {
  scaleF: string;
  scaleD: string;
  roiStart: string;
  roiEnd: string;
}

/** The shared plan (../../shared/resize-plan.ts) with its axes as C expressions. */
interface Plan extends Omit<ResizePlan, 'axes'> {
  /** Per axis of X: undefined where the resize is the identity. */
  axes: (AxisExpr | undefined)[];
  bindings: CudaBinding[];
  /** Lines run once before the axes (a shared scale read from computed sizes). */
  pre: string[];
}

const f32 = (v: number) => literal(Math.fround(v), 'f32');
const f64 = (v: number) => literal(v, 'f64');

/** A buffer element as double (f16/bf16 widened first). */
function readD(ctx: CudaContext, param: string, t: StaticTensor, i: number): string {
  return `(double)${load(`${param}[${i}]`, elemOf(ctx, t))}`;
}

/** Known scales and roi become literals (baked into the text); computed ones are buffer reads. */
function cudaPlan(ctx: CudaContext, sp: ResizePlan): Plan {
  const buf = (name: string) => sp.buffers.find((b) => b.name === name)!.t;
  const pre: string[] = [];
  if (sp.kscale) {
    const ratios = sp.kscale.ratios.map(({ index, inLen }) => `(double)sizes[${index}] / ${f64(inLen)}`);
    const fn = sp.kscale.fn === 'min' ? 'fmin' : 'fmax';
    pre.push(`const double kscale = ${ratios.reduce((a, b) => `${fn}(${a}, ${b})`)};`);
  }
  const axes = sp.axes.map((a): AxisExpr | undefined => {
    if (!a) return undefined;
    const roiExpr = a.roiAt && a.roiAt.map((i) => `(float)${readD(ctx, 'roi', buf('roi'), i)}`);
    if (typeof a.scale === 'number') {
      const [rs, re] = roiExpr ?? [f32(a.roi?.[0] ?? 0), f32(a.roi?.[1] ?? 1)];
      return { scaleF: f32(a.scale), scaleD: f64(a.scale), roiStart: rs!, roiEnd: re! };
    }
    const scaleD = a.scale === 'kscale' ? 'kscale' : readD(ctx, 'scales', buf('scales'), a.scale.index);
    return { scaleF: `(float)(${scaleD})`, scaleD, roiStart: roiExpr?.[0] ?? f32(0), roiEnd: roiExpr?.[1] ?? f32(1) };
  });
  return { ...sp, axes, bindings: sp.buffers.map((b) => readBinding(ctx, b.name, b.t)), pre };
}


/**
 * C (float) of the source coordinate of output position `x` along an axis of `inLen` → `outLen`,
 * each f32 step of the interpreter one explicitly rounded operation.
 */
function sourceExpr(coord: string, x: string, inLen: number, outLen: number, sc: string, rs: string, re: string): string {
  const [add, sub, mul, div] = ['__fadd_rn', '__fsub_rn', '__fmul_rn', '__fdiv_rn'];
  const inl = f32(inLen);
  const half = `${sub}(${div}(${add}(${x}, 0.5f), ${sc}), 0.5f)`;
  switch (coord) {
    case 'half_pixel': return half;
    case 'half_pixel_symmetric': {
      const adj = `${div}(${f32(outLen)}, ${mul}(${sc}, ${inl}))`;
      const off = `${mul}(${f32(inLen / 2)}, ${sub}(1.0f, ${adj}))`;
      return `${add}(${off}, ${half})`;
    }
    case 'pytorch_half_pixel': return outLen > 1 ? half : '0.0f';
    // The ONNX reference divides by the unrounded resized length scale·inLen (as the interpreter).
    case 'align_corners': return outLen === 1 ? '0.0f' : `${div}(${mul}(${x}, ${f32(inLen - 1)}), ${sub}(${mul}(${sc}, ${inl}), 1.0f))`;
    case 'asymmetric': return `${div}(${x}, ${sc})`;
    case 'tf_half_pixel_for_nn': return `${div}(${add}(${x}, 0.5f), ${sc})`;
    case 'tf_crop_and_resize':
      return outLen > 1
        ? `${add}(${mul}(${rs}, ${f32(inLen - 1)}), ${div}(${mul}(${mul}(${x}, ${sub}(${re}, ${rs})), ${f32(inLen - 1)}), ${f32(outLen - 1)}))`
        : `${mul}(${mul}(0.5f, ${add}(${rs}, ${re})), ${f32(inLen - 1)})`;
    default: throw new Error(`unknown coordinate_transformation_mode '${coord}'`);
  }
}

/** C lines: float `v` = nearest_mode's rounding of float `s` (halves decided on the exact s − floor(s)). */
function nearestLines(mode: string, v: string, s: string, down: string): string[] {
  switch (mode) {
    case 'round_prefer_floor': return [`const float ${v}f = floorf(${s});`, `const float ${v} = ${s} - ${v}f > 0.5f ? ${v}f + 1.0f : ${v}f;`];
    case 'round_prefer_ceil': return [`const float ${v}f = floorf(${s});`, `const float ${v} = ${s} - ${v}f >= 0.5f ? ${v}f + 1.0f : ${v}f;`];
    case 'floor': return [`const float ${v} = floorf(${s});`];
    case 'ceil': return [`const float ${v} = ceilf(${s});`];
    // Upsample and Resize-10 (ONNX Runtime's "simple" mode): ceil when downsampling, else truncate.
    default: return [`const float ${v} = ${down} ? ceilf(${s}) : truncf(${s});`];
  }
}

const LINEAR_W = '__device__ __forceinline__ double lathe_resize_linear_w(double v) { return fmax(0.0, 1.0 - fabs(v)); }';
const CUBIC_W = `// Keys' cubic with A = cubic_coeff_a, at distance v.
__device__ __forceinline__ double lathe_resize_cubic_w(double v, double A) {
  const double a = fabs(v);
  if (a <= 1.0) return ((A + 2.0) * a - (A + 3.0)) * a * a + 1.0;
  if (a < 2.0) return ((A * a - 5.0 * A) * a + 8.0 * A) * a - 4.0 * A;
  return 0.0;
}`;

function resizeKernels(ctx: CudaContext, x: StaticTensor, y: StaticTensor, p: Plan) {
  const n = numElements(y.shape);
  if (n === 0) return [];
  if (p.mode !== 'nearest' && x.dtype === 'bool') return ctx.unsupported(`${p.mode} resize is not defined on bool`);
  // Rank 0 runs as rank 1.
  const xs = x.shape.length ? x.shape : [1];
  const ys = y.shape.length ? y.shape : [1];
  const axes = x.shape.length ? p.axes : [undefined];
  const xe = elemOf(ctx, x);
  const ye = elemOf(ctx, y);
  const strides = stridesOf(xs);
  const crop = p.coord === 'tf_crop_and_resize';
  const extrap = literal(p.extrapolation, ye);
  // A computed operand some axes do not read (tf_crop_and_resize ignores scales) is still a parameter.
  const body: string[] = [...p.pre];
  if (crop) body.push('bool outside = false;');
  axes.forEach((a, d) => {
    if (!a) return;
    body.push(`const float s${d} = ${sourceExpr(p.coord, `(float)o${d}`, xs[d]!, ys[d]!, a.scaleF, a.roiStart, a.roiEnd)};`);
    if (crop) body.push(`if (s${d} < 0.0f || s${d} > ${f32(xs[d]! - 1)}) outside = true;`);
  });
  const helpers: string[] = [];
  const idx = axes.map((a, d) => (a ? `c${d}` : `o${d}`));
  if (p.mode === 'nearest') {
    axes.forEach((a, d) => {
      if (!a) return;
      body.push(...nearestLines(p.nearest, `v${d}`, `s${d}`, `(${a.scaleD} < 1.0)`));
      body.push(`const unsigned c${d} = (unsigned)fminf(fmaxf(v${d}, 0.0f), ${f32(xs[d]! - 1)});`);
    });
    body.push(`y[flat] = ${crop ? `outside ? ${extrap} : ` : ''}x[${affine(idx, strides)}];`);
  } else {
    const support = p.mode === 'linear' ? 1 : 2;
    const normalize = p.exclude || p.antialias;
    helpers.push(p.mode === 'linear' ? LINEAR_W : CUBIC_W);
    const kern = (v: string) => (p.mode === 'linear' ? `lathe_resize_linear_w(${v})` : `lathe_resize_cubic_w(${v}, ${f64(p.cubicA)})`);
    // Tap t's weight: kernel((start + t − fraction)·ks); 0 outside the input under exclude_outside
    // (the other taps read the clamped edge).
    const tapW = (d: number, t: string) =>
      `${p.exclude ? `(j${d}0 + ${t} < 0 || j${d}0 + ${t} >= ${xs[d]}) ? 0.0 : ` : ''}${kern(`((double)(st${d} + ${t}) - fr${d}) * ks${d}`)}`;
    if (crop) body.push(`if (outside) { y[flat] = ${extrap}; return; }`);
    axes.forEach((a, d) => {
      if (!a) return;
      body.push(`const double fl${d} = floor((double)s${d});`, `const double fr${d} = (double)s${d} - fl${d};`);
      if (p.antialias) {
        // Antialiasing a downsample widens the support by 1/scale: taps floor(s)+start …
        // floor(s)+start+n−1 with start = floor(−support/ks) + 1 and n = 2 − 2·start.
        body.push(`const double sd${d} = ${a.scaleD};`, `const double ks${d} = sd${d} < 1.0 ? sd${d} : 1.0;`, `const int st${d} = (int)floor(${-support}.0 / ks${d}) + 1;`);
      } else body.push(`const double ks${d} = 1.0;`, `const int st${d} = ${1 - support};`);
      body.push(`const int nt${d} = 2 - 2 * st${d};`, `const int j${d}0 = (int)fl${d} + st${d};`);
      if (normalize) {
        // Weights renormalized to sum 1 where taps were dropped or the filter widened.
        body.push(
          `double ws${d} = 0.0;`,
          `for (int t = 0; t < nt${d}; ++t) ws${d} += ${tapW(d, 't')};`,
          `const double dv${d} = ${p.exclude ? '' : `ks${d} != 1.0 && `}ws${d} != 0.0 ? ws${d} : 1.0;`,
        );
      }
    });
    body.push('double acc = 0.0;');
    const close: string[] = [];
    let indent = '';
    axes.forEach((a, d) => {
      if (!a) return;
      // No tap loop unrolls: ptxas spills the unrolled cubic taps of three axes.
      body.push('#ifdef __CUDA_ARCH__', '#pragma unroll 1', '#endif');
      body.push(
        `${indent}for (int t${d} = 0; t${d} < nt${d}; ++t${d}) {`,
        `${indent}  const double w${d} = ${tapW(d, `t${d}`)}${normalize ? ` / dv${d}` : ''};`,
        `${indent}  if (w${d} == 0.0) continue;`,
        `${indent}  const int jc${d} = j${d}0 + t${d};`,
        `${indent}  const unsigned c${d} = (unsigned)(jc${d} < 0 ? 0 : (jc${d} > ${xs[d]! - 1} ? ${xs[d]! - 1} : jc${d}));`,
      );
      close.unshift(`${indent}}`);
      indent += '  ';
    });
    const ws = axes.flatMap((a, d) => (a ? [`w${d}`] : []));
    const v = `(double)${load(`x[${affine(idx, strides)}]`, xe)}`;
    body.push(`${indent}acc += ${[...ws, v].join(' * ')};`, ...close);
    body.push(`y[flat] = ${storeAcc(ye)};`);
  }
  // Output indices some source coordinates do not read (a length-1 result) are not declared.
  const text = body.join('\n');
  const used = ys.map((_, d) => new RegExp(`\\bo${d}\\b`).test(text));
  body.unshift(...p.bindings.map((b) => `(void)${b.param};`), ...decompose('flat', ys, 'o', used));
  const bindings = [readBinding(ctx, 'x', x), ...p.bindings, writeBinding(ctx, 'y', y)];
  return [perElementKernel(ctx, p.mode === 'nearest' ? 'resize_nearest' : `resize_${p.mode}`, bindings, n, body, helpers)];
}

/** The double `acc` stored as `e`: floats rounded once, integers truncated toward zero (a C cast). */
function storeAcc(e: CudaElem): string {
  if (e === 'f64') return 'acc';
  if (e === 'f32') return '(float)acc';
  if (e === 'f16') return '__float2half_rn((float)acc)';
  if (e === 'bf16') return '__float2bfloat16_rn((float)acc)';
  return `(${C_TYPE[e]})(long long)acc`;
}

defineOnnxCuda(['Resize', 'Upsample'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  return resizeKernels(ctx, x, y, cudaPlan(ctx, resizeNodePlan(ctx, x, y)));
});
