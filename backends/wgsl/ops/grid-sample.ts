// Sampling at fractional positions: GridSample (opset 16 for 4-D input, opset 20 for any number
// of spatial dims with the modes renamed linear / cubic) and RoiAlign, one thread per output
// element, mirroring the interpreter (ir/interp/ops/sample.ts), which follows ONNX Runtime's
// border handling. The grid, the ROIs and the batch indices are data, read from their buffers:
// they do not change the output shape, so they need not be constants.
import { gridSamplePlan, roiAlignParams } from '../../shared/grid-sample-plan.ts';
import { IndexSpace, numElements, stridesOf } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { perElementKernel } from '../template.ts';
import { uniformAt } from '../uniforms.ts';
import { readVar, writeVar } from './common.ts';


function perElement(ctx: LowerContext, what: string, key: string, n: number, vars: BoundVar[], uniforms: KernelUniform[], helpers: string[], body: string[]): Kernel[] {
  return perElementKernel(ctx, what, key, n, vars, body, { uniforms, helpers });
}

/** A stored element as f32 (for reading), and an f32 value as the stored element. */
const load = (v: string, elem: string) => (elem === 'f32' ? v : `f32(${v})`);
const store = (v: string, elem: string) => (elem === 'f32' ? v : elem === 'f16' ? `f16(${v})` : `${elem}(trunc(${v}))`);

// Reflect x into [lo, hi] repeatedly, as a mirror would (the interpreter's `reflect`).
const REFLECT = `fn reflect(x: f32, lo: f32, hi: f32) -> f32 {
  let range = hi - lo;
  if (x < lo) {
    let dx = lo - x;
    let k = trunc(dx / range);
    let r = dx - k * range;
    return select(hi - r, lo + r, k % 2.0 == 0.0);
  }
  if (x > hi) {
    let dx = x - hi;
    let k = trunc(dx / range);
    let r = dx - k * range;
    return select(lo + r, hi - r, k % 2.0 == 0.0);
  }
  return x;
}`;

// GridSample: per spatial dim, the grid component (x, y, z…: the first is the last spatial dim)
// becomes a coordinate, then nt taps (1 nearest, 2 linear, 4 cubic) as input indices (−1 where
// zero padding reads 0) and weights; the result sums the product of the dims' taps.
defineOnnxWgsl(['GridSample'], (ctx) => {
  const x = ctx.input(0)!;
  const grid = ctx.input(1)!;
  const y = ctx.output(0)!;
  const { r, spatial, mode, padding, align, nt, C, P } = gridSamplePlan(ctx, x, grid);

  // taps(g, size): the coordinate (align_corners maps −1, 1 to the corner centres, else to the
  // outer edges), moved inside first (border clamps, reflection mirrors; cubic under border keeps
  // its coordinate and clamps each tap instead, as ONNX Runtime and PyTorch do), then the taps.
  const weights =
    mode === 'nearest'
      ? ['tp.w[0] = 1.0;']
      : mode === 'linear'
        ? ['tp.w[0] = 1.0 - t;', 'tp.w[1] = t;']
        : [
            // Keys' cubic, A = −0.75.
            'tp.w[0] = far(t + 1.0);',
            'tp.w[1] = near(t);',
            'tp.w[2] = near(1.0 - t);',
            'tp.w[3] = far(2.0 - t);',
          ];
  const moveInside =
    padding === 'border' ? (mode === 'cubic' ? '' : 'c = clamp(c, 0.0, fs - 1.0);') : padding === 'reflection' ? 'c = reflect(c, lo, hi);' : '';
  const tapInside =
    padding === 'border' ? 'i = clamp(i, 0, size - 1);' : padding === 'reflection' ? 'i = i32(trunc(reflect(f32(i), lo, hi)));' : '';
  const tapsFn = [
    `struct Taps { i: array<i32, ${nt}>, w: array<f32, ${nt}> }`,
    ...(mode === 'cubic'
      ? [
          'fn near(d: f32) -> f32 { return (1.25 * d - 2.25) * d * d + 1.0; }',
          'fn far(d: f32) -> f32 { return ((-0.75 * d + 3.75) * d - 6.0) * d + 3.0; }',
        ]
      : []),
    'fn taps(g: f32, size: i32) -> Taps {',
    '  var tp: Taps;',
    '  let fs = f32(size);',
    `  var c = ${align ? '((g + 1.0) / 2.0) * (fs - 1.0)' : '((g + 1.0) * fs - 1.0) / 2.0'};`,
    `  let lo = ${align ? '0.0' : '-0.5'};`,
    `  let hi = ${align ? 'fs - 1.0' : 'fs - 0.5'};`,
    // WGSL's round() rounds halves to even, as the interpreter's roundHalfEven.
    mode === 'nearest' ? '  c = round(c);' : '',
    moveInside ? `  if (c < lo || c > hi) { ${moveInside} }` : '',
    '  let fl = floor(c);',
    '  let t = c - fl;',
    `  let base = ${mode === 'nearest' ? 'i32(c)' : mode === 'cubic' ? 'i32(fl) - 1' : 'i32(fl)'};`,
    ...weights.map((l) => `  ${l}`),
    `  for (var k = 0; k < ${nt}; k++) {`,
    '    var i = base + k;',
    tapInside ? `    if (i < 0 || i >= size) { ${tapInside} }` : '',
    '    tp.i[k] = select(i, -1, i < 0 || i >= size);',
    '  }',
    '  return tp;',
    '}',
  ]
    .filter((l) => l)
    .join('\n');

  // The output as [N·C, P]: thread (nc, p) reads the grid at (n, p) and the plane of (n, c).
  const xv = readVar(ctx, 'x', x);
  const gv = readVar(ctx, 'grid', grid);
  const yv = writeVar(ctx, 'y', y);
  const inStr = stridesOf(spatial);
  const body = [
    'let nc = flat / u.points;',
    'let p = flat % u.points;',
    `let gb = ((nc / u.channels) * u.points + p) * ${r}u;`,
    'let xb = nc * u.plane;',
    ...spatial.map((_, d) => `let tp${d} = taps(${load(`grid[gb + ${r - 1 - d}u]`, gv.binding.elem)}, i32(${uniformAt('in_shape', d)}));`),
    'var acc = 0.0;',
  ];
  let indent = '';
  const close: string[] = [];
  for (let d = 0; d < r; d++) {
    body.push(
      `${indent}for (var k${d} = 0; k${d} < ${nt}; k${d}++) {`,
      `${indent}  let i${d} = tp${d}.i[k${d}];`,
      `${indent}  if (i${d} < 0) { continue; }`,
    );
    close.unshift(`${indent}}`);
    indent += '  ';
  }
  const w = spatial.map((_, d) => `tp${d}.w[k${d}]`).join(' * ');
  const at = spatial.map((_, d) => `u32(i${d}) * ${uniformAt('in_strides', d)}`).join(' + ');
  body.push(`${indent}let w = ${w};`, `${indent}if (w != 0.0) { acc += w * ${load(`x[xb + ${at}]`, xv.binding.elem)}; }`, ...close);
  body.push(`y[flat] = ${store('acc', yv.binding.elem)};`);
  return perElement(
    ctx,
    'gridsample',
    `${mode}/${padding}/${align ? 'ac' : ''}/r${r}/${xv.binding.elem}/${gv.binding.elem}`,
    numElements(y.shape),
    [xv, gv, yv],
    [
      { name: 'points', type: 'u32', value: P },
      { name: 'channels', type: 'u32', value: C },
      { name: 'plane', type: 'u32', value: numElements(spatial) },
      { name: 'in_shape', type: 'u32', value: spatial },
      { name: 'in_strides', type: 'u32', value: inStr },
    ],
    [...(padding === 'reflection' ? [REFLECT] : []), tapsFn],
    body,
  );
});

// RoiAlign: each ROI [x1, y1, x2, y2] (scaled by spatial_scale; shifted by −0.5 under half_pixel)
// is cut into output_height × output_width bins, each sampled on a sampling_ratio² grid (adaptive
// ceil(bin size) when 0) of bilinear samples, pooled by average or (ONNX Runtime's) max of the
// weighted corners. The geometry is computed in the interpreter's f32 steps: the adaptive sample
// count jumps at exact multiples.
defineOnnxWgsl(['RoiAlign'], (ctx) => {
  const x = ctx.input(0)!;
  const rois = ctx.input(1)!;
  const bidx = ctx.input(2)!;
  const y = ctx.output(0)!;
  if (x.shape.length !== 4) return ctx.unsupported(`RoiAlign takes a 4-D X, got rank ${x.shape.length}`);
  const [, C, H, W] = x.shape as [number, number, number, number];
  const { oh, ow, ratio, maxMode, halfPixel, spatialScale } = roiAlignParams(ctx);
  const xv = readVar(ctx, 'x', x);
  const rv = readVar(ctx, 'rois', rois);
  const bv = readVar(ctx, 'bidx', bidx);
  const yv = writeVar(ctx, 'y', y);
  const space = new IndexSpace('o', [y.shape[0]!, C, oh, ow]);
  const roi = (k: number) => load(`rois[r * 4u + ${k}u]`, rv.binding.elem);
  const bilinear = `// The interpreter's bilinear sample: 4 corner offsets and weights, all 0 outside the map.
fn bilinear(yy: f32, xx: f32, hh: i32, ww: i32, o: ptr<function, array<i32, 4>>, w: ptr<function, array<f32, 4>>) {
  if (yy < -1.0 || yy > f32(hh) || xx < -1.0 || xx > f32(ww)) {
    *o = array<i32, 4>(0, 0, 0, 0);
    *w = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    return;
  }
  var sy = max(yy, 0.0);
  var sx = max(xx, 0.0);
  var y0 = i32(floor(sy));
  var x0 = i32(floor(sx));
  var y1 = y0 + 1;
  var x1 = x0 + 1;
  if (y0 >= hh - 1) { y0 = hh - 1; y1 = y0; sy = f32(y0); }
  if (x0 >= ww - 1) { x0 = ww - 1; x1 = x0; sx = f32(x0); }
  let ly = sy - f32(y0);
  let lx = sx - f32(x0);
  let hy = 1.0 - ly;
  let hx = 1.0 - lx;
  *o = array<i32, 4>(y0 * ww + x0, y0 * ww + x1, y1 * ww + x0, y1 * ww + x1);
  *w = array<f32, 4>(hy * hx, hy * lx, ly * hx, ly * lx);
}`;
  const H_ = uniformAt('dims', 0);
  const W_ = uniformAt('dims', 1);
  const body = [
    `let i = ${space.indices('flat')};`,
    'let r = i[0];',
    'let ph = f32(i[2]);',
    'let pw = f32(i[3]);',
    `let base = (u32(bidx[r]) * ${space.dim(1)} + i[1]) * ${H_} * ${W_};`,
    `let x0 = ${roi(0)} * u.scale - u.off;`,
    `let y0 = ${roi(1)} * u.scale - u.off;`,
    `var rw = (${roi(2)} * u.scale - u.off) - x0;`,
    `var rh = (${roi(3)} * u.scale - u.off) - y0;`,
    // output_half_pixel (and opset 10) makes every ROI at least 1×1.
    ...(halfPixel ? [] : ['rw = max(rw, 1.0);', 'rh = max(rh, 1.0);']),
    `let bin_h = rh / f32(${space.dim(2)});`,
    `let bin_w = rw / f32(${space.dim(3)});`,
    `let gh = select(i32(ceil(bin_h)), u.ratio, u.ratio > 0);`,
    `let gw = select(i32(ceil(bin_w)), u.ratio, u.ratio > 0);`,
    'let count = f32(max(gh * gw, 1));',
    `let hh = i32(${H_});`,
    `let ww = i32(${W_});`,
    'var acc = 0.0;',
    'var first = true;',
    'var o: array<i32, 4>;',
    'var w: array<f32, 4>;',
    'for (var iy = 0; iy < gh; iy++) {',
    '  let yy = (y0 + ph * bin_h) + ((f32(iy) + 0.5) * bin_h) / f32(gh);',
    '  for (var ix = 0; ix < gw; ix++) {',
    '    let xx = (x0 + pw * bin_w) + ((f32(ix) + 0.5) * bin_w) / f32(gw);',
    '    bilinear(yy, xx, hh, ww, &o, &w);',
    ...(maxMode
      ? [
          '    var v = w[0] * ' + load('x[base + u32(o[0])]', xv.binding.elem) + ';',
          `    for (var k = 1; k < 4; k++) { v = max(v, w[k] * ${load('x[base + u32(o[k])]', xv.binding.elem)}); }`,
          '    acc = select(max(acc, v), v, first);',
          '    first = false;',
        ]
      : [`    for (var k = 0; k < 4; k++) { acc += w[k] * ${load('x[base + u32(o[k])]', xv.binding.elem)}; }`]),
    '  }',
    '}',
    `y[flat] = ${store(maxMode ? 'acc' : 'acc / count', yv.binding.elem)};`,
  ];
  return perElement(
    ctx,
    'roialign',
    `${maxMode ? 'max' : 'avg'}/${halfPixel ? 'hp' : 'ohp'}/${xv.binding.elem}/${rv.binding.elem}/${bv.binding.elem}`,
    numElements(y.shape),
    [xv, rv, bv, yv],
    [
      ...space.uniforms,
      { name: 'dims', type: 'u32', value: [H, W] },
      { name: 'scale', type: 'f32', value: spatialScale },
      { name: 'off', type: 'f32', value: halfPixel ? 0.5 : 0 },
      { name: 'ratio', type: 'i32', value: ratio },
    ],
    [space.helper, bilinear],
    body,
  );
});
