// Which dims form one row of Softmax, LogSoftmax and Hardmax, shared by the WGSL and CUDA
// lowerings so that the opset rule is written once.
import type { AttrReader } from '../../ir/attr-reader.ts';

/**
 * The reduced (row) dims of a Softmax-like op on a rank-`r` input. Before opset 13 a row is all
 * dims from `axis` (default 1) on, the input coerced to 2-D; from 13 the one `axis` (default −1).
 */
export function softmaxAxes(ctx: AttrReader & { readonly opset: number }, r: number): number[] {
  const norm = (a: number) => (a < 0 ? a + r : a);
  if (ctx.opset < 13) {
    const from = norm(ctx.int('axis', 1));
    return Array.from({ length: r }, (_, i) => i).filter((i) => i >= from);
  }
  return [norm(ctx.int('axis', -1))];
}
