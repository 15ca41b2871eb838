// Pools over any number of spatial dims: MaxPool (with the Indices result), AveragePool
// (count_include_pad), LpPool, and the global pools. Each kernel position is an index map over
// output positions, so the inner loops run over contiguous output rows.
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo } from '../tensor.ts';
import { stridesOf, tableIndex } from './util.ts';
import type { Window } from './window.ts';
import { multiIndices, offsetTable, windowGeometry } from './window.ts';

type FloatArray = Float32Array | Float64Array;

interface Pooling {
  x: Tensor;
  N: number;
  C: number;
  inSpatial: number[];
  win: Window;
  /** Per kernel position: the input offset each output position reads, or -1 (padding). */
  maps: Int32Array[];
}

function pooling(ctx: EvalContext): Pooling {
  const x = ctx.tensor(0);
  const [N, C] = x.shape as [number, number];
  const inSpatial = x.shape.slice(2);
  const kernel = [...ctx.ints('kernel_shape')];
  const win = windowGeometry(ctx, inSpatial, kernel, ctx.int('ceil_mode', 0) === 1);
  const strides = stridesOf(inSpatial);
  const maps = multiIndices(kernel).map((k) =>
    tableIndex(win.out, k.map((kd, d) => offsetTable(win, d, kd, inSpatial[d]!, strides[d]!))),
  );
  return { x, N, C, inSpatial, win, maps };
}

defineOnnxEvals(['MaxPool'], (ctx) => {
  const { x, N, C, inSpatial, win, maps } = pooling(ctx);
  const P = numElements(win.out);
  const inPlane = numElements(inSpatial);
  const xd = x.data as FloatArray | Int8Array | Uint8Array;
  const out = allocData(x.dtype, N * C * P) as FloatArray;
  const wantIdx = ctx.wants(1);
  const idx = wantIdx ? new BigInt64Array(N * C * P) : undefined;
  // storage_order 1: Indices count in column-major order over the spatial dims.
  const colMajor = ctx.int('storage_order', 0) === 1;
  const colStrides = inSpatial.map((_, d) => numElements(inSpatial.slice(0, d)));
  const rowStrides = stridesOf(inSpatial);
  const best = new Float64Array(P);
  const bestAt = new Int32Array(P);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * inPlane;
    best.fill(-Infinity);
    bestAt.fill(-1);
    for (const map of maps) {
      for (let p = 0; p < P; p++) {
        const j = map[p]!;
        if (j >= 0) {
          const v = xd[base + j]!;
          if (v > best[p]! || bestAt[p] === -1) {
            best[p] = v;
            bestAt[p] = j;
          }
        }
      }
    }
    out.set(best, nc * P);
    if (idx) {
      for (let p = 0; p < P; p++) {
        let j = bestAt[p]!;
        if (colMajor) {
          let c = 0;
          for (let d = 0; d < inSpatial.length; d++) {
            c += Math.floor(j / rowStrides[d]!) * colStrides[d]!;
            j %= rowStrides[d]!;
          }
          j = c;
        }
        idx[nc * P + p] = BigInt(base + j);
      }
    }
  }
  const shape = [N, C, ...win.out];
  return [roundTo(makeTensor(x.dtype, shape, out)), idx ? makeTensor('i64', shape, idx) : undefined];
});

/** How many taps of each output position's window fall inside [lo, hi) along dim d. */
function tapCounts(win: Window, d: number, lo: number, hi: number): Float64Array {
  const t = new Float64Array(win.out[d]!);
  for (let o = 0; o < t.length; o++) {
    let n = 0;
    for (let k = 0; k < win.kernel[d]!; k++) {
      const i = o * win.strides[d]! - win.padBegin[d]! + k * win.dilations[d]!;
      if (i >= lo && i < hi) n++;
    }
    t[o] = n;
  }
  return t;
}

defineOnnxEvals(['AveragePool'], (ctx) => {
  const { x, N, C, inSpatial, win, maps } = pooling(ctx);
  const P = numElements(win.out);
  const inPlane = numElements(inSpatial);
  const includePad = ctx.int('count_include_pad', 0) === 1;
  // The divisor is a product over dims: taps inside the input, or inside input plus padding.
  const counts = win.out.map((_, d) =>
    includePad ? tapCounts(win, d, -win.padBegin[d]!, inSpatial[d]! + win.padEnd[d]!) : tapCounts(win, d, 0, inSpatial[d]!),
  );
  const divisor = new Float64Array(P);
  const mi = multiIndices(win.out);
  for (let p = 0; p < P; p++) divisor[p] = mi[p]!.reduce((acc, o, d) => acc * counts[d]![o]!, 1);
  const xd = x.data as FloatArray;
  const out = allocData(x.dtype, N * C * P) as FloatArray;
  const sum = new Float64Array(P);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * inPlane;
    sum.fill(0);
    for (const map of maps) {
      for (let p = 0; p < P; p++) {
        const j = map[p]!;
        if (j >= 0) sum[p]! += xd[base + j]!;
      }
    }
    for (let p = 0; p < P; p++) out[nc * P + p] = sum[p]! / divisor[p]!;
  }
  return [roundTo(makeTensor(x.dtype, [N, C, ...win.out], out))];
});

defineOnnxEvals(['LpPool'], (ctx) => {
  const { x, N, C, inSpatial, win, maps } = pooling(ctx);
  const pw = ctx.int('p', 2);
  const P = numElements(win.out);
  const inPlane = numElements(inSpatial);
  const xd = x.data as FloatArray;
  const out = allocData(x.dtype, N * C * P) as FloatArray;
  const sum = new Float64Array(P);
  for (let nc = 0; nc < N * C; nc++) {
    sum.fill(0);
    for (const map of maps) {
      for (let p = 0; p < P; p++) {
        const j = map[p]!;
        if (j >= 0) sum[p]! += Math.abs(xd[nc * inPlane + j]!) ** pw;
      }
    }
    for (let p = 0; p < P; p++) out[nc * P + p] = sum[p]! ** (1 / pw);
  }
  return [roundTo(makeTensor(x.dtype, [N, C, ...win.out], out))];
});

/** Global pools: reduce each [n, c] plane to one value; the result keeps rank with 1s. */
function globalPool(ctx: EvalContext, init: number, step: (acc: number, v: number) => number, finish: (acc: number, n: number) => number) {
  const x = ctx.tensor(0);
  const [N, C] = x.shape as [number, number];
  const plane = numElements(x.shape.slice(2));
  const xd = x.data as FloatArray;
  const out = allocData(x.dtype, N * C) as FloatArray;
  for (let nc = 0; nc < N * C; nc++) {
    let acc = init;
    for (let i = 0; i < plane; i++) acc = step(acc, xd[nc * plane + i]!);
    out[nc] = finish(acc, plane);
  }
  return [roundTo(makeTensor(x.dtype, [N, C, ...x.shape.slice(2).map(() => 1)], out))];
}
defineOnnxEvals(['GlobalAveragePool'], (ctx) => globalPool(ctx, 0, (a, v) => a + v, (a, n) => a / n));
defineOnnxEvals(['GlobalMaxPool'], (ctx) => globalPool(ctx, -Infinity, (a, v) => (v > a ? v : a), (a) => a));
defineOnnxEvals(['GlobalLpPool'], (ctx) => {
  const p = ctx.int('p', 2);
  return globalPool(ctx, 0, (a, v) => a + Math.abs(v) ** p, (a) => a ** (1 / p));
});
