// Sampling at fractional positions: GridSample (opset 16 for 4-D input; opset 20 for any number
// of spatial dims, with modes renamed linear / cubic) and RoiAlign. Both interpolate in f64 and
// follow ONNX Runtime's handling of borders, which the ONNX reference shares.
import { roundHalfEven } from '../float.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import { allocData, makeTensor, roundTo, toF64, toNumbers } from '../tensor.ts';

/** Reflect x into [lo, hi] (repeatedly, as a mirror would). */
function reflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Keys' cubic weights (A = -0.75) of the taps floor(x)-1 … floor(x)+2 at fraction t. */
function cubicWeights(t: number, out: Float64Array): void {
  const A = -0.75;
  const near = (d: number) => ((A + 2) * d - (A + 3)) * d * d + 1;
  const far = (d: number) => ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  out[0] = far(t + 1);
  out[1] = near(t);
  out[2] = near(1 - t);
  out[3] = far(2 - t);
}

defineOnnxEvals(['GridSample'], (ctx) => {
  const x = ctx.tensor(0);
  const grid = ctx.tensor(1);
  const r = x.shape.length - 2;
  const [N, C] = x.shape as [number, number];
  const spatial = x.shape.slice(2);
  const outSpatial = grid.shape.slice(1, -1);
  if (grid.shape[0] !== N || grid.shape[grid.shape.length - 1] !== r || outSpatial.length !== r) {
    ctx.fail(`grid [${grid.shape.join(', ')}] does not fit X [${x.shape.join(', ')}]`);
  }
  const modeName = ctx.string('mode', ctx.opset < 20 ? 'bilinear' : 'linear');
  const mode = modeName === 'bilinear' || modeName === 'linear' ? 'linear' : modeName === 'bicubic' || modeName === 'cubic' ? 'cubic' : modeName === 'nearest' ? 'nearest' : ctx.fail(`unknown mode '${modeName}'`);
  const padding = ctx.string('padding_mode', 'zeros');
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection') ctx.fail(`unknown padding_mode '${padding}'`);
  const align = ctx.int('align_corners', 0) !== 0;
  const P = outSpatial.reduce((a, b) => a * b, 1);
  const plane = spatial.reduce((a, b) => a * b, 1);
  const inStrides = spatial.map((_, d) => spatial.slice(d + 1).reduce((a, b) => a * b, 1));
  const xd = toF64(x);
  const gd = toF64(grid);
  const out = allocData(x.dtype, N * C * P) as Float32Array | Float64Array;
  const nt = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
  // Per dim: the taps' flat offsets (-1 = reads zero padding) and weights.
  const offs = spatial.map(() => new Float64Array(nt));
  const wts = spatial.map(() => new Float64Array(nt));
  const counter = new Array<number>(r).fill(0);
  const total = nt ** r;
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      for (let d = 0; d < r; d++) {
        const size = spatial[d]!;
        // Grid components run x, y, z…: the first is the last spatial dim.
        const g = gd[(n * P + p) * r + (r - 1 - d)]!;
        let c = align ? ((g + 1) / 2) * (size - 1) : ((g + 1) * size - 1) / 2;
        const lo = align ? 0 : -0.5;
        const hi = align ? size - 1 : size - 0.5;
        if (mode === 'nearest') c = roundHalfEven(c);
        // Out-of-range coordinates are first moved inside (border clamps, reflection mirrors);
        // cubic under border padding keeps its coordinate and clamps each tap instead, as
        // ONNX Runtime and PyTorch do.
        if (c < lo || c > hi) {
          if (padding === 'border') c = mode === 'cubic' ? c : Math.min(size - 1, Math.max(0, c));
          else if (padding === 'reflection') c = reflect(c, lo, hi);
        }
        const base = mode === 'nearest' ? c : Math.floor(c) - (mode === 'cubic' ? 1 : 0);
        const t = c - Math.floor(c);
        const w = wts[d]!;
        if (mode === 'nearest') w[0] = 1;
        else if (mode === 'linear') {
          w[0] = 1 - t;
          w[1] = t;
        } else cubicWeights(t, w);
        for (let k = 0; k < nt; k++) {
          let i = base + k;
          if (i < 0 || i >= size) {
            if (padding === 'border') i = Math.min(size - 1, Math.max(0, i));
            else if (padding === 'reflection') i = Math.trunc(reflect(i, lo, hi));
          }
          offs[d]![k] = i < 0 || i >= size ? -1 : i * inStrides[d]!;
        }
      }
      for (let ch = 0; ch < C; ch++) {
        const xb = (n * C + ch) * plane;
        let s = 0;
        counter.fill(0);
        for (let it = 0; it < total; it++) {
          let w = 1;
          let o = 0;
          for (let d = 0; d < r; d++) {
            const k = counter[d]!;
            const od = offs[d]![k]!;
            if (od < 0) {
              w = 0;
              break;
            }
            w *= wts[d]![k]!;
            o += od;
          }
          if (w !== 0) s += w * xd[xb + o]!;
          for (let d = r - 1; d >= 0; d--) {
            if (++counter[d]! < nt) break;
            counter[d] = 0;
          }
        }
        out[(n * C + ch) * P + p] = s;
      }
    }
  }
  return [roundTo(makeTensor(x.dtype, [N, C, ...outSpatial], out))];
});

/** RoiAlign's bilinear sample: 4 (offset, weight) pairs, or all weights 0 outside the map. */
function bilinear(y: number, x: number, H: number, W: number, o: Int32Array, w: Float64Array): void {
  if (y < -1 || y > H || x < -1 || x > W) {
    o.fill(0);
    w.fill(0);
    return;
  }
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let y0 = Math.floor(y);
  let x0 = Math.floor(x);
  let y1: number, x1: number;
  if (y0 >= H - 1) {
    y0 = y1 = H - 1;
    y = y0;
  } else y1 = y0 + 1;
  if (x0 >= W - 1) {
    x0 = x1 = W - 1;
    x = x0;
  } else x1 = x0 + 1;
  const ly = y - y0;
  const lx = x - x0;
  const hy = 1 - ly;
  const hx = 1 - lx;
  o[0] = y0 * W + x0;
  o[1] = y0 * W + x1;
  o[2] = y1 * W + x0;
  o[3] = y1 * W + x1;
  w[0] = hy * hx;
  w[1] = hy * lx;
  w[2] = ly * hx;
  w[3] = ly * lx;
}

// RoiAlign: each ROI [x1, y1, x2, y2] (scaled by spatial_scale) is cut into output_height ×
// output_width bins, each bin sampled on a sampling_ratio² grid (adaptive ceil(roi/bins) when 0)
// and pooled by average or max. Opset 16 adds coordinate_transformation_mode, whose default
// half_pixel shifts ROI corners by -0.5; output_half_pixel (opset 10's only behaviour) does not,
// and forces each ROI to be at least 1×1.
defineOnnxEvals(['RoiAlign'], (ctx: EvalContext) => {
  const x = ctx.tensor(0);
  const rois = toF64(ctx.tensor(1));
  const bidx = toNumbers(ctx.tensor(2));
  const [, C, H, W] = x.shape as [number, number, number, number];
  const R = bidx.length;
  const oh = ctx.int('output_height', 1);
  const ow = ctx.int('output_width', 1);
  const ratio = ctx.int('sampling_ratio', 0);
  const scale = ctx.float('spatial_scale', 1);
  const maxMode = ctx.string('mode', 'avg') === 'max';
  const halfPixel = ctx.opset >= 16 && ctx.string('coordinate_transformation_mode', 'half_pixel') === 'half_pixel';
  const xd = toF64(x);
  const out = allocData(x.dtype, R * C * oh * ow) as Float32Array | Float64Array;
  const off = halfPixel ? 0.5 : 0;
  const o4 = new Int32Array(4);
  const w4 = new Float64Array(4);
  // ROI geometry in f32, as ONNX Runtime computes it: the adaptive sample count ceil(roi / bins)
  // jumps at exact multiples, so f64 rounding would change it.
  const f = Math.fround;
  const sc = f(scale);
  for (let r = 0; r < R; r++) {
    const b = bidx[r]!;
    const x0 = f(f(f(rois[r * 4]!) * sc) - off);
    const y0 = f(f(f(rois[r * 4 + 1]!) * sc) - off);
    let rw = f(f(f(f(rois[r * 4 + 2]!) * sc) - off) - x0);
    let rh = f(f(f(f(rois[r * 4 + 3]!) * sc) - off) - y0);
    if (!halfPixel) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const binH = f(rh / oh);
    const binW = f(rw / ow);
    const gh = ratio > 0 ? ratio : Math.ceil(binH);
    const gw = ratio > 0 ? ratio : Math.ceil(binW);
    const count = Math.max(gh * gw, 1);
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * H * W;
      for (let ph = 0; ph < oh; ph++) {
        for (let pw = 0; pw < ow; pw++) {
          let acc = 0;
          let first = true;
          for (let iy = 0; iy < gh; iy++) {
            const yy = f(f(y0 + f(ph * binH)) + f(f((iy + 0.5) * binH) / gh));
            for (let ix = 0; ix < gw; ix++) {
              const xx = f(f(x0 + f(pw * binW)) + f(f((ix + 0.5) * binW) / gw));
              bilinear(yy, xx, H, W, o4, w4);
              if (maxMode) {
                // ONNX Runtime's max: the largest weighted corner of each sample, maxed over samples.
                let v = w4[0]! * xd[base + o4[0]!]!;
                for (let k = 1; k < 4; k++) v = Math.max(v, w4[k]! * xd[base + o4[k]!]!);
                acc = first ? v : Math.max(acc, v);
                first = false;
              } else {
                for (let k = 0; k < 4; k++) acc += w4[k]! * xd[base + o4[k]!]!;
              }
            }
          }
          out[((r * C + c) * oh + ph) * ow + pw] = maxMode ? acc : acc / count;
        }
      }
    }
  }
  return [roundTo(makeTensor(x.dtype, [R, C, oh, ow], out))];
});
