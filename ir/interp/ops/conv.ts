// Conv and ConvTranspose, any number of spatial dims, with groups, dilations, pads, strides and
// auto_pad. Conv is im2col + the GEMM of kernels/gemm.ts (a 1×1 stride-1 unpadded conv reads X
// as B directly); ConvTranspose is the GEMM followed by col2im (scatter-add).
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo } from '../tensor.ts';
import { GEMM_NR, gemm, rowMajor } from '../kernels/gemm.ts';
import { stridesOf, tableIndex } from './util.ts';
import type { Window } from './window.ts';
import { multiIndices, offsetTable, windowGeometry } from './window.ts';

type FloatArray = Float32Array | Float64Array;

function floatInputs(ctx: EvalContext): [Tensor, Tensor, Tensor | undefined] {
  const x = ctx.tensor(0);
  const w = ctx.tensor(1);
  if (!(x.data instanceof Float32Array || x.data instanceof Float64Array)) ctx.fail(`${ctx.node.op} takes float tensors, got ${x.dtype}`);
  if (x.dtype !== w.dtype) ctx.fail(`X is ${x.dtype} but W is ${w.dtype}`);
  return [x, w, ctx.optTensor(2)];
}

/** For each kernel position: the input offset (within one channel) each output position reads, or -1. */
function im2colMaps(w: Window, inSpatial: readonly number[]): Int32Array[] {
  const inStrides = stridesOf(inSpatial);
  return multiIndices(w.kernel).map((k) =>
    tableIndex(w.out, k.map((kd, d) => offsetTable(w, d, kd, inSpatial[d]!, inStrides[d]!))),
  );
}

/**
 * im2col packed for the GEMM (see BPacker): B[(c·kSize + k), p] = X[c, the input position of output
 * p under kernel offset k], or 0 in the padding, in panels of GEMM_NR columns. Output positions go
 * in tiles of TILE panels, so both the reads (along rows of X) and the writes (TILE streams, one
 * per panel) are sequential.
 */
function im2colPacked(dst: Float64Array, base: number, xd: FloatArray, xBase: number, Cg: number, inPlane: number, maps: readonly Int32Array[], P: number): void {
  const kSize = maps.length;
  const K = Cg * kSize;
  const NR = GEMM_NR; // 4: the full-panel loop below writes four lanes
  const TILE = 16;
  const step = NR * K;
  const Pp = Math.ceil(P / NR) * NR;
  for (let p0 = 0; p0 < Pp; p0 += TILE * NR) {
    const p1 = Math.min(Pp, p0 + TILE * NR);
    const full = Math.min(p1, P - (P % NR));
    const d0 = base + (p0 / NR) * step;
    for (let c = 0; c < Cg; c++) {
      const cBase = xBase + c * inPlane;
      for (let k = 0; k < kSize; k++) {
        const map = maps[k]!;
        let d = d0 + (c * kSize + k) * NR;
        let p = p0;
        for (; p < full; p += NR, d += step) {
          const j0 = map[p]!, j1 = map[p + 1]!, j2 = map[p + 2]!, j3 = map[p + 3]!;
          dst[d] = j0 < 0 ? 0 : xd[cBase + j0]!;
          dst[d + 1] = j1 < 0 ? 0 : xd[cBase + j1]!;
          dst[d + 2] = j2 < 0 ? 0 : xd[cBase + j2]!;
          dst[d + 3] = j3 < 0 ? 0 : xd[cBase + j3]!;
        }
        // The last panel, part past P: zeros.
        for (; p < p1; p += NR, d += step) {
          for (let q = 0; q < NR; q++) {
            const j = p + q < P ? map[p + q]! : -1;
            dst[d + q] = j < 0 ? 0 : xd[cBase + j]!;
          }
        }
      }
    }
  }
}

/** out[oBase + m·P + p] = acc[m·P + p] + bias[b0 + m] (0 without a bias), the sum in f64. */
function addBias(out: FloatArray, oBase: number, acc: Float64Array, Mg: number, P: number, bias: Tensor | undefined, b0: number): void {
  for (let m = 0; m < Mg; m++) {
    const b = bias ? Number(bias.data[b0 + m]) : 0;
    const o = oBase + m * P;
    const a = m * P;
    for (let p = 0; p < P; p++) out[o + p] = acc[a + p]! + b;
  }
}

defineOnnxEvals(['Conv'], (ctx) => {
  const [x, wt, bias] = floatInputs(ctx);
  const [N, C] = x.shape as [number, number];
  const inSpatial = x.shape.slice(2);
  const M = wt.shape[0]!;
  const group = ctx.int('group', 1);
  const kernel = ctx.attr('kernel_shape') ? [...ctx.ints('kernel_shape')] : wt.shape.slice(2);
  const win = windowGeometry(ctx, inSpatial, kernel);
  const Cg = C / group;
  const Mg = M / group;
  if (!Number.isInteger(Cg) || !Number.isInteger(Mg) || wt.shape[1] !== Cg) {
    ctx.fail(`channels do not fit: X has ${C}, W is [${wt.shape.join(', ')}], group ${group}`);
  }
  const kSize = numElements(kernel);
  const P = numElements(win.out);
  const inPlane = numElements(inSpatial);
  const K = Cg * kSize;
  const xd = x.data as FloatArray;
  const wd = wt.data as FloatArray;
  const out = allocData(x.dtype, N * M * P) as FloatArray;
  const maps = im2colMaps(win, inSpatial);
  // A 1×1 kernel whose map is the identity (stride 1, no padding) needs no im2col: X_g is B.
  const direct = kSize === 1 && P === inPlane && maps[0]!.every((j, p) => j === p);
  const acc = new Float64Array(Mg * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xBase = (n * C + g * Cg) * inPlane;
      // B = X_g read in place, or its im2col written straight into the kernel's packed layout.
      const B = direct ? rowMajor(xd, xBase, P) : (dst: Float64Array, base: number) => im2colPacked(dst, base, xd, xBase, Cg, inPlane, maps, P);
      gemm(Mg, P, K, rowMajor(wd, g * Mg * K, K), B, acc);
      addBias(out, (n * M + g * Mg) * P, acc, Mg, P, bias, g * Mg);
    }
  }
  return [roundTo(makeTensor(x.dtype, [N, M, ...win.out], out))];
});

defineOnnxEvals(['ConvTranspose'], (ctx) => {
  const [x, wt, bias] = floatInputs(ctx);
  const [N, C] = x.shape as [number, number];
  const inSpatial = x.shape.slice(2);
  const r = inSpatial.length;
  const group = ctx.int('group', 1);
  const Cg = C / group;
  const Mg = wt.shape[1]!;
  const M = Mg * group;
  const kernel = ctx.attr('kernel_shape') ? [...ctx.ints('kernel_shape')] : wt.shape.slice(2);
  const strides = [...ctx.ints('strides', new Array(r).fill(1))];
  const dilations = [...ctx.ints('dilations', new Array(r).fill(1))];
  const outPad = [...ctx.ints('output_padding', new Array(r).fill(0))];
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let pads = [...ctx.ints('pads', new Array(2 * r).fill(0))];
  const ext = kernel.map((k, d) => (k - 1) * dilations[d]! + 1);
  const full = inSpatial.map((i, d) => strides[d]! * (i - 1) + outPad[d]! + ext[d]!);
  let outSpatial: number[];
  const given = ctx.attr('output_shape') ? [...ctx.ints('output_shape')] : undefined;
  if (given || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    outSpatial = given ? given.slice(-r) : inSpatial.map((i, d) => i * strides[d]!);
    const total = full.map((f, d) => f - outSpatial[d]!);
    // ONNX: SAME_UPPER puts the odd padding at the end, otherwise at the beginning.
    const begin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [...begin, ...total.map((t, d) => t - begin[d]!)];
  } else {
    if (autoPad === 'VALID') pads = new Array(2 * r).fill(0);
    outSpatial = full.map((f, d) => f - pads[d]! - pads[d + r]!);
  }
  const kSize = numElements(kernel);
  const Pin = numElements(inSpatial);
  const Pout = numElements(outSpatial);
  const outStrides = stridesOf(outSpatial);
  // For kernel offset k, each input position scatters to this output offset (or -1: cropped).
  const maps = multiIndices(kernel).map((k) =>
    tableIndex(
      inSpatial,
      k.map((kd, d) => {
        const t = new Float64Array(inSpatial[d]!);
        for (let i = 0; i < t.length; i++) {
          const o = i * strides[d]! - pads[d]! + kd * dilations[d]!;
          t[i] = o >= 0 && o < outSpatial[d]! ? o * outStrides[d]! : -Infinity;
        }
        return t;
      }),
    ),
  );
  const xd = x.data as FloatArray;
  const wd = wt.data as FloatArray;
  // W_g is [Cg, Mg·kSize]; its transpose (read in place) times X_g [Cg, Pin] gives col [Mg·kSize, Pin].
  const col = new Float64Array(Mg * kSize * Pin);
  const acc = new Float64Array(M * Pout);
  const out = allocData(x.dtype, N * M * Pout) as FloatArray;
  for (let n = 0; n < N; n++) {
    acc.fill(0);
    for (let g = 0; g < group; g++) {
      const wT = { data: wd, off: g * Cg * Mg * kSize, rs: 1, cs: Mg * kSize };
      gemm(Mg * kSize, Pin, Cg, wT, rowMajor(xd, (n * C + g * Cg) * Pin, Pin), col);
      for (let m = 0; m < Mg; m++) {
        const oBase = (g * Mg + m) * Pout;
        for (let k = 0; k < kSize; k++) {
          const map = maps[k]!;
          const row = (m * kSize + k) * Pin;
          for (let p = 0; p < Pin; p++) {
            const o = map[p]!;
            if (o >= 0) acc[oBase + o]! += col[row + p]!;
          }
        }
      }
    }
    for (let m = 0; m < M; m++) {
      const b = bias ? Number(bias.data[m]) : 0;
      for (let p = 0; p < Pout; p++) out[(n * M + m) * Pout + p] = acc[m * Pout + p]! + b;
    }
  }
  return [roundTo(makeTensor(x.dtype, [N, M, ...outSpatial], out))];
});
