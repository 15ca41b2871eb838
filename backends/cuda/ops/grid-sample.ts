// Sampling at fractional positions: GridSample (opset 16 for 4-D input, opset 20 for any number
// of spatial dims with the modes renamed linear / cubic) and RoiAlign, one thread per output
// element, mirroring the interpreter (ir/interp/ops/sample.ts), which follows ONNX Runtime's
// border handling. GridSample computes in double as the interpreter does; RoiAlign's geometry is
// in its f32 steps (the adaptive sample count jumps at exact multiples), each an explicitly
// rounded __f*_rn so nvcc cannot contract it into an fma, and its sums in double. The grid, the
// ROIs and the batch indices are data read from their buffers (they do not change any shape).
import { gridSamplePlan, roiAlignParams } from '../../shared/grid-sample-plan.ts';
import type { CudaElem } from '../kernel.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { decompose, elemOf, literal, load, numElements, perElementKernel, readBinding, storeD, stridesOf, writeBinding } from './index-util.ts';

const isFloatElem = (e: CudaElem) => e === 'f32' || e === 'f64' || e === 'f16' || e === 'bf16';

// Reflect x into [lo, hi] repeatedly, as a mirror would (the interpreter's `reflect`).
const REFLECT = `__device__ double lathe_gs_reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (x < lo) {
    const double dx = lo - x;
    const double k = trunc(dx / range);
    const double r = dx - k * range;
    return fmod(k, 2.0) == 0.0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double k = trunc(dx / range);
    const double r = dx - k * range;
    return fmod(k, 2.0) == 0.0 ? hi - r : lo + r;
  }
  return x;
}`;

// GridSample: per spatial dim, the grid component (x, y, z…: the first is the last spatial dim)
// becomes a coordinate, then nt taps (1 nearest, 2 linear, 4 cubic) as input indices (−1 where
// zero padding reads 0) and weights; the result sums the product of the dims' taps.
defineOnnxCuda(['GridSample'], (ctx) => {
  const x = ctx.input(0)!;
  const grid = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { r, spatial, mode, padding, align, nt, C, P } = gridSamplePlan(ctx, x, grid);
  const xe = elemOf(ctx, x);
  const ge = elemOf(ctx, grid);
  const ye = elemOf(ctx, y);
  if (!isFloatElem(ge)) return ctx.unsupported(`GridSample with a ${grid.dtype} grid`);
  const n = numElements(y.shape);
  if (n === 0) return [];
  const plane = numElements(spatial);
  const inStr = stridesOf(spatial);

  // Per dim, from the grid component g: the coordinate (align_corners maps −1, 1 to the corner
  // centres, else to the outer edges), moved inside first (border clamps, reflection mirrors;
  // cubic under border keeps its coordinate and clamps each tap instead, as ONNX Runtime and
  // PyTorch do), then the first tap's index and the fraction. Tap k's index and weight are
  // computed inside the loops (no per-thread arrays: they would live in local memory).
  const tag = `${mode}_${padding}_${align ? 'ac' : 'e'}`;
  const coordFn = [
    `// GridSample (${mode}, ${padding}${align ? ', align_corners' : ''}): the first tap and the fraction of component g.`,
    `__device__ __forceinline__ int lathe_gs_coord_${tag}(double g, int size, double* frac) {`,
    '  const double fs = (double)size;',
    `  double c = ${align ? '((g + 1.0) / 2.0) * (fs - 1.0)' : '((g + 1.0) * fs - 1.0) / 2.0'};`,
    // rint rounds halves to even (the default rounding mode), as the interpreter's roundHalfEven.
    mode === 'nearest' ? '  c = rint(c);' : '',
    padding === 'border' && mode !== 'cubic' ? `  if (c < ${align ? '0.0' : '-0.5'} || c > ${align ? 'fs - 1.0' : 'fs - 0.5'}) c = fmin(fmax(c, 0.0), fs - 1.0);` : '',
    padding === 'reflection' ? `  c = lathe_gs_reflect(c, ${align ? '0.0, fs - 1.0' : '-0.5, fs - 0.5'});` : '',
    '  const double fl = floor(c);',
    '  *frac = c - fl;',
    `  return ${mode === 'nearest' ? '(int)c' : mode === 'cubic' ? '(int)fl - 1' : '(int)fl'};`,
    '}',
  ].filter((l) => l).join('\n');
  // Tap index base + k moved inside the input, or −1 where zero padding reads 0.
  const tapFn = [
    `__device__ __forceinline__ int lathe_gs_tap_${tag}(int i, int size) {`,
    padding === 'border' ? '  if (i < 0 || i >= size) i = i < 0 ? 0 : size - 1;' : '',
    padding === 'reflection' ? `  if (i < 0 || i >= size) i = (int)trunc(lathe_gs_reflect((double)i, ${align ? '0.0, (double)size - 1.0' : '-0.5, (double)size - 0.5'}));` : '',
    '  return i < 0 || i >= size ? -1 : i;',
    '}',
  ].filter((l) => l).join('\n');
  const weight =
    mode === 'nearest'
      ? '__device__ __forceinline__ double lathe_gs_w_nearest(double t, int k) { (void)t; (void)k; return 1.0; }'
      : mode === 'linear'
        ? '__device__ __forceinline__ double lathe_gs_w_linear(double t, int k) { return k == 0 ? 1.0 - t : t; }'
        : [
            // Keys' cubic, A = −0.75, at taps floor(c) − 1 … floor(c) + 2.
            '__device__ __forceinline__ double lathe_gs_near(double d) { return (1.25 * d - 2.25) * d * d + 1.0; }',
            '__device__ __forceinline__ double lathe_gs_far(double d) { return ((-0.75 * d + 3.75) * d - 6.0) * d + 3.0; }',
            '__device__ __forceinline__ double lathe_gs_w_cubic(double t, int k) {',
            '  return k == 0 ? lathe_gs_far(t + 1.0) : k == 1 ? lathe_gs_near(t) : k == 2 ? lathe_gs_near(1.0 - t) : lathe_gs_far(2.0 - t);',
            '}',
          ].join('\n');
  const helpers = [...(padding === 'reflection' ? [REFLECT] : []), coordFn, tapFn, weight];
  // The output as [N·C, P]: thread (nc, p) reads the grid at (n, p) and the plane of (n, c).
  const body = [
    `const unsigned nc = flat / ${P}u;`,
    `const unsigned p = flat % ${P}u;`,
    `const unsigned gb = ((nc / ${C}u) * ${P}u + p) * ${r}u;`,
    `const unsigned xb = nc * ${plane}u;`,
    ...spatial.flatMap((size, d) => [
      `double t${d};`,
      `const int b${d} = lathe_gs_coord_${tag}((double)${load(`grid[gb + ${r - 1 - d}u]`, ge)}, ${size}, &t${d});`,
    ]),
    'double acc = 0.0;',
  ];
  let indent = '';
  const close: string[] = [];
  for (let d = 0; d < r; d++) {
    // No tap loop unrolls: ptxas spills unrolled nested cubic taps.
    body.push('#ifdef __CUDA_ARCH__', '#pragma unroll 1', '#endif');
    body.push(
      `${indent}for (int k${d} = 0; k${d} < ${nt}; ++k${d}) {`,
      `${indent}  const int i${d} = lathe_gs_tap_${tag}(b${d} + k${d}, ${spatial[d]});`,
      `${indent}  if (i${d} < 0) continue;`,
      `${indent}  const double w${d} = lathe_gs_w_${mode}(t${d}, k${d});`,
    );
    close.unshift(`${indent}}`);
    indent += '  ';
  }
  const w = spatial.map((_, d) => `w${d}`).join(' * ');
  const at = spatial.map((_, d) => `(unsigned)i${d} * ${inStr[d]}u`).join(' + ');
  body.push(`${indent}const double w = ${w};`, `${indent}if (w != 0.0) acc += w * (double)${load(`x[xb + ${at}]`, xe)};`, ...close);
  body.push(`y[flat] = ${storeD('acc', ye)};`);
  return [perElementKernel(ctx, 'gridsample', [readBinding(ctx, 'x', x), readBinding(ctx, 'grid', grid), writeBinding(ctx, 'y', y)], n, body, helpers)];
});

// RoiAlign's bilinear sample: 4 corner offsets and weights, all 0 outside the map (the
// interpreter's `bilinear`, its coordinates f32 values, its weights double).
const BILINEAR = `__device__ void lathe_roialign_bilinear(float yy, float xx, int hh, int ww, int* o, double* w) {
  if (yy < -1.0f || yy > (float)hh || xx < -1.0f || xx > (float)ww) {
    for (int k = 0; k < 4; ++k) { o[k] = 0; w[k] = 0.0; }
    return;
  }
  double sy = yy < 0.0f ? 0.0 : (double)yy;
  double sx = xx < 0.0f ? 0.0 : (double)xx;
  int y0 = (int)floor(sy), x0 = (int)floor(sx), y1, x1;
  if (y0 >= hh - 1) { y0 = y1 = hh - 1; sy = (double)y0; } else y1 = y0 + 1;
  if (x0 >= ww - 1) { x0 = x1 = ww - 1; sx = (double)x0; } else x1 = x0 + 1;
  const double ly = sy - y0, lx = sx - x0, hy = 1.0 - ly, hx = 1.0 - lx;
  o[0] = y0 * ww + x0; o[1] = y0 * ww + x1; o[2] = y1 * ww + x0; o[3] = y1 * ww + x1;
  w[0] = hy * hx; w[1] = hy * lx; w[2] = ly * hx; w[3] = ly * lx;
}`;

// RoiAlign: each ROI [x1, y1, x2, y2] (scaled by spatial_scale; shifted by −0.5 under half_pixel)
// is cut into output_height × output_width bins, each sampled on a sampling_ratio² grid (adaptive
// ceil(bin size) when 0) of bilinear samples, pooled by average or (ONNX Runtime's) max of the
// weighted corners.
defineOnnxCuda(['RoiAlign'], (ctx) => {
  const x = ctx.input(0)!;
  const rois = ctx.input(1)!;
  const bidx = ctx.input(2)!;
  const y = ctx.output(0)!;
  if (x.shape.length !== 4) return ctx.unsupported(`RoiAlign takes a 4-D X, got rank ${x.shape.length}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const n = numElements(y.shape);
  if (n === 0) return [];
  const { oh, ow, ratio, maxMode, halfPixel, spatialScale } = roiAlignParams(ctx);
  const xe = elemOf(ctx, x);
  const re = elemOf(ctx, rois);
  const ye = elemOf(ctx, y);
  const [add, sub, mul, div] = ['__fadd_rn', '__fsub_rn', '__fmul_rn', '__fdiv_rn'];
  const sc = literal(Math.fround(spatialScale), 'f32');
  const off = halfPixel ? '0.5f' : '0.0f';
  const corner = (k: number) => `${sub}(${mul}((float)${load(`rois[roi * 4u + ${k}u]`, re)}, ${sc}), ${off})`;
  const xv = (o: string) => `(double)${load(`x[base + (unsigned)${o}]`, xe)}`;
  const body = [
    ...decompose('flat', [y.shape[0]!, C, oh, ow], 'i'),
    'const unsigned roi = i0;',
    // A batch index out of range is undefined in ONNX; it is clamped so nothing reads past X.
    `long long b = (long long)bidx[roi];`,
    `b = b < 0 ? 0 : (b > ${N - 1} ? ${N - 1} : b);`,
    `const unsigned base = ((unsigned)b * ${C}u + i1) * ${H * W}u;`,
    `const float x0 = ${corner(0)};`,
    `const float y0 = ${corner(1)};`,
    `float rw = ${sub}(${corner(2)}, x0);`,
    `float rh = ${sub}(${corner(3)}, y0);`,
    // output_half_pixel (and opset 10) makes every ROI at least 1×1.
    ...(halfPixel ? [] : ['rw = fmaxf(rw, 1.0f);', 'rh = fmaxf(rh, 1.0f);']),
    `const float bin_h = ${div}(rh, ${oh}.0f);`,
    `const float bin_w = ${div}(rw, ${ow}.0f);`,
    `const int gh = ${ratio > 0 ? ratio : '(int)ceilf(bin_h)'};`,
    `const int gw = ${ratio > 0 ? ratio : '(int)ceilf(bin_w)'};`,
    ...(maxMode ? [] : ['const double count = (double)(gh * gw > 1 ? gh * gw : 1);']),
    `const float ystart = ${add}(y0, ${mul}((float)i2, bin_h));`,
    `const float xstart = ${add}(x0, ${mul}((float)i3, bin_w));`,
    'double acc = 0.0;',
    ...(maxMode ? ['bool first = true;'] : []),
    'int o[4];',
    'double w[4];',
    'for (int iy = 0; iy < gh; ++iy) {',
    `  const float yy = ${add}(ystart, ${div}(${mul}(${add}((float)iy, 0.5f), bin_h), (float)gh));`,
    '  for (int ix = 0; ix < gw; ++ix) {',
    `    const float xx = ${add}(xstart, ${div}(${mul}(${add}((float)ix, 0.5f), bin_w), (float)gw));`,
    `    lathe_roialign_bilinear(yy, xx, ${H}, ${W}, o, w);`,
    ...(maxMode
      ? [
          `    double v = w[0] * ${xv('o[0]')};`,
          `    for (int k = 1; k < 4; ++k) v = fmax(v, w[k] * ${xv('o[k]')});`,
          '    acc = first ? v : fmax(acc, v);',
          '    first = false;',
        ]
      : [`    for (int k = 0; k < 4; ++k) acc += w[k] * ${xv('o[k]')};`]),
    '  }',
    '}',
    `y[flat] = ${storeD(maxMode ? 'acc' : 'acc / count', ye)};`,
  ];
  return [perElementKernel(ctx, 'roialign', [readBinding(ctx, 'x', x), readBinding(ctx, 'rois', rois), readBinding(ctx, 'bidx', bidx), writeBinding(ctx, 'y', y)], n, body, [BILINEAR])];
});
