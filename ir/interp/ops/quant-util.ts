// Pieces shared by the quantization evaluators: the integer range of each quantized dtype,
// rounding a real value into a quantized dtype (round half to even, then clamp; fp8 targets
// round to their format, saturating when asked), how a scale/zero-point operand lines up with
// the data (per tensor, per axis or blocked), and zero-point subtraction into exact f64 data.
import type { DType } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { narrowFormat, roundHalfEven, roundToFormat } from '../float.ts';
import { evalError } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { makeTensor, toF64 } from '../tensor.ts';
import { broadcastIndex, stridesOf } from './util.ts';

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  u8: [0, 255],
  i8: [-128, 127],
  u16: [0, 65535],
  i16: [-32768, 32767],
  u4: [0, 15],
  i4: [-8, 7],
  i32: [-2147483648, 2147483647],
};

/**
 * Store a real value `v` (already divided by the scale, before adding the zero point `zp`) into
 * quantized dtype `dtype`. Integers: round half to even, add zp, clamp to the dtype's range.
 * Floats (fp8): add zp (always 0 in valid models) and round to the format.
 */
export function quantizeValue(v: number, zp: number, dtype: DType, saturate: boolean): number {
  const range = INT_RANGE[dtype];
  if (range) {
    const q = roundHalfEven(v) + zp;
    return q < range[0] ? range[0] : q > range[1] ? range[1] : q;
  }
  const f = narrowFormat(dtype);
  if (f) return roundToFormat(Math.fround(v + zp), f, saturate);
  if (dtype === 'f32') return Math.fround(v + zp);
  throw evalError(`cannot quantize to ${dtype}`);
}

/**
 * For each element of data of shape `shape`, the index into a scale / zero-point operand of
 * shape `pShape`: undefined when the operand is one value (per tensor); along `axis` for a 1-D
 * operand (per axis); for `blockSize` > 0 the operand has the data's rank and dim `axis` counts
 * blocks of `blockSize` elements (blocked quantization, opset 21).
 */
export function paramIndex(shape: readonly number[], pShape: readonly number[], axis: number, blockSize = 0): Int32Array | undefined {
  const np = numElements(pShape);
  if (np === 1 && blockSize <= 0) return undefined;
  const r = shape.length;
  const a = axis < 0 ? axis + r : axis;
  const n = numElements(shape);
  const idx = new Int32Array(n);
  if (blockSize > 0) {
    if (pShape.length !== r) throw evalError(`blocked quantization needs a scale of rank ${r}, got [${pShape.join(', ')}]`);
    const ps = stridesOf(pShape);
    const xs = stridesOf(shape);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let d = 0; d < r; d++) {
        let c = Math.floor(i / xs[d]!) % shape[d]!;
        if (d === a) c = Math.floor(c / blockSize);
        off += c * ps[d]!;
      }
      idx[i] = off;
    }
    return idx;
  }
  if (pShape.length !== 1 || pShape[0] !== shape[a]) {
    throw evalError(`a per-axis scale/zero point must be 1-D of ${shape[a]} (axis ${axis}), got [${pShape.join(', ')}]`);
  }
  const inner = numElements(shape.slice(a + 1));
  const dim = shape[a]!;
  for (let i = 0; i < n; i++) idx[i] = Math.floor(i / inner) % dim;
  return idx;
}

/**
 * `x − zp` as exact f64 data, with the zero point scalar, a 1-D vector along `vecDim` of x (the
 * per-row / per-column / per-channel forms), or any shape that broadcasts to x.
 */
export function minusZeroPoint(x: Tensor, zp: Tensor | undefined, vecDim: number): Tensor {
  const xd = toF64(x);
  const out = new Float64Array(xd.length);
  if (!zp || numElements(zp.shape) === 1) {
    const z = zp ? Number(zp.data[0]) : 0;
    for (let i = 0; i < xd.length; i++) out[i] = xd[i]! - z;
    return makeTensor('f64', x.shape, out);
  }
  const zd = toF64(zp);
  if (zp.shape.length === 1) {
    const d = vecDim < 0 ? vecDim + x.shape.length : vecDim;
    if (x.shape[d] !== zd.length) throw evalError(`zero point [${zp.shape.join(', ')}] does not fit data [${x.shape.join(', ')}]`);
    const inner = numElements(x.shape.slice(d + 1));
    for (let i = 0; i < xd.length; i++) out[i] = xd[i]! - zd[Math.floor(i / inner) % zd.length]!;
  } else {
    const bi = broadcastIndex(zp.shape, x.shape);
    for (let i = 0; i < xd.length; i++) out[i] = xd[i]! - zd[bi ? bi[i]! : i]!;
  }
  return makeTensor('f64', x.shape, out);
}
