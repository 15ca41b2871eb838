// Host-side rules of the quantization lowerings (QuantizeLinear / DequantizeLinear, the integer
// and QLinear MatMul / Conv) shared by the WGSL and CUDA backends: the integer ranges, how a
// scale or zero point lines up with its data (ir/interp/ops/quant-util.ts is the oracle), and the
// integer conv's geometry. Each backend writes its own kernel text from these.
import type { DType } from '../../ir/dtype.ts';
import { numElements } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

/** The integer range of each quantized dtype the kernels take (fp8 and 4-bit have no storage). */
export const QUANT_RANGE: Partial<Record<DType, [number, number]>> = {
  u8: [0, 255],
  i8: [-128, 127],
  u16: [0, 65535],
  i16: [-32768, 32767],
  i32: [-2147483648, 2147483647],
};

/**
 * How a scale / zero-point operand of shape `p` lines up with data of shape `x`
 * (QuantizeLinear / DequantizeLinear): one value; per axis (1-D along dim `a`, of `D`); or
 * blocked (p has x's rank, dim `a` counting blocks of `block` elements, `blocks` of them in p).
 * `inner` is the data's element count after dim `a`.
 */
export type ParamLayout =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'axis'; readonly a: number; readonly D: number; readonly inner: number }
  | { readonly kind: 'blocked'; readonly a: number; readonly D: number; readonly inner: number; readonly blocks: number; readonly block: number };

export function paramLayout(ctx: CoreContext<unknown>, x: readonly number[], p: readonly number[], axis: number, block: number, what: string): ParamLayout {
  if (numElements(p) === 1 && block <= 0) return { kind: 'tensor' };
  const r = x.length;
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) return ctx.unsupported(`axis ${axis} is out of range for rank ${r}`);
  const D = x[a]!;
  const inner = numElements(x.slice(a + 1));
  if (block > 0) {
    const nb = Math.ceil(D / block);
    if (p.length !== r || p.some((d, k) => (k === a ? d < nb : d !== x[k]))) {
      return ctx.unsupported(`blocked ${what} of shape [${p.join(', ')}] does not fit data [${x.join(', ')}] (axis ${a}, block_size ${block})`);
    }
    return { kind: 'blocked', a, D, inner, blocks: p[a]!, block };
  }
  if (p.length !== 1 || p[0] !== D) return ctx.unsupported(`a per-axis ${what} must be 1-D of ${D} (axis ${axis}), got [${p.join(', ')}]`);
  return { kind: 'axis', a, D, inner };
}

/**
 * How a zero point of shape `zp` lines up with data of shape `data` (quant-util.ts
 * minusZeroPoint): one value; a 1-D vector along data dim `d` (`vecDim`, may be negative); or a
 * shape that broadcasts to the data.
 */
export type ZeroPointLayout = { readonly kind: 'one' } | { readonly kind: 'vector'; readonly d: number } | { readonly kind: 'broadcast' };

export function zeroPointLayout(ctx: CoreContext<unknown>, data: readonly number[], zp: readonly number[], vecDim: number, what: string): ZeroPointLayout {
  if (numElements(zp) === 1) return { kind: 'one' };
  if (zp.length === 1) {
    const d = vecDim < 0 ? vecDim + data.length : vecDim;
    if (d < 0 || data[d] !== zp[0]) return ctx.unsupported(`${what} [${zp.join(', ')}] does not fit data [${data.join(', ')}]`);
    return { kind: 'vector', d };
  }
  if (zp.length > data.length || zp.some((d, k) => d !== 1 && d !== data[data.length - zp.length + k])) {
    return ctx.unsupported(`${what} [${zp.join(', ')}] does not broadcast to data [${data.join(', ')}]`);
  }
  return { kind: 'broadcast' };
}

/**
 * Whether a QLinear scale is one value (read at 0); otherwise it must be 1-D of `n` (one value
 * per row, column or output channel), read at the caller's index.
 */
export function scaleIsScalar(ctx: CoreContext<unknown>, t: StaticTensor, n: number, what: string): boolean {
  const k = numElements(t.shape);
  if (k === 1) return true;
  if (k !== n || t.shape.filter((d) => d !== 1).length !== 1) return ctx.unsupported(`${what} of shape [${t.shape.join(', ')}] (one value or ${n} expected)`);
  return false;
}

/** QLinearMatMul: whether A's scale is per row and B's per column (both need rank ≥ 2 operands). */
export function qlinearMatmulScales(ctx: CoreContext<unknown>, a: StaticTensor, b: StaticTensor): { perRow: boolean; perCol: boolean } {
  const perRow = numElements(ctx.input(1)!.shape) > 1;
  const perCol = numElements(ctx.input(4)!.shape) > 1;
  if ((perRow || perCol) && (a.shape.length < 2 || b.shape.length < 2)) return ctx.unsupported('per-row/per-column scales need A and B of rank ≥ 2');
  return { perRow, perCol };
}


/** An integer conv's bias must be i32 with one value per output channel. */
export function checkIntBias(ctx: CoreContext<unknown>, bias: StaticTensor, M: number): void {
  if (bias.dtype !== 'i32' || numElements(bias.shape) !== M) ctx.unsupported(`bias of ${bias.dtype} [${bias.shape.join(', ')}] (i32 of ${M} expected)`);
}

/** DynamicQuantizeLinear's operand and results (scale and zero point may be dropped); only u8 results are lowered. */
export function dynamicQuantOperands(ctx: CoreContext<unknown>): { x: StaticTensor; y: StaticTensor; ys: StaticTensor | undefined; yz: StaticTensor | undefined } {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  if (y.dtype !== 'u8') return ctx.unsupported(`DynamicQuantizeLinear to ${y.dtype}`);
  return { x, y, ys: ctx.output(1), yz: ctx.output(2) };
}

/**
 * MatMulInteger / QLinearMatMul operand shapes with numpy's 1-D promotion (A [K] as [1, K], B [K]
 * as [K, 1]), and the matrix sizes M, K (A's) and N.
 */
export function intMatmulShapes(a: StaticTensor, b: StaticTensor): { aS: readonly number[]; bS: readonly number[]; M: number; K: number; N: number } {
  const aS = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bS = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  return { aS, bS, M: aS[aS.length - 2]!, K: aS[aS.length - 1]!, N: bS[bS.length - 1]! };
}
