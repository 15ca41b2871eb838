// MatMul's operand shapes as numpy reads them, for both backends' GEMM lowerings: a 1-D A is a row
// [1, K], a 1-D B a column [K, 1] (the same bytes), and the leading dims are batch dims.
import type { StaticTensor } from '../lower-core.ts';

export interface MatMulShapes {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly aBatch: readonly number[];
  readonly bBatch: readonly number[];
}

export function matmulShapes(a: StaticTensor, b: StaticTensor): MatMulShapes {
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  return { M: as[as.length - 2]!, K: as[as.length - 1]!, N: bs[bs.length - 1]!, aBatch: as.slice(0, -2), bBatch: bs.slice(0, -2) };
}
