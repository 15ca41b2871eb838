// The shape of an elementwise program (a node, or a fused group of nodes as one kernel) and the
// gathering of a single node's operands, common to the WGSL and CUDA elementwise lowerings; each
// backend supplies its own op table (`Op`), so only the host-side bookkeeping lives here.
import type { AttrReader } from '../../ir/attr-reader.ts';
import type { DType } from '../../ir/dtype.ts';
import type { Node } from '../../ir/graph.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

/** One op applied in an elementwise program. Operands name externals or earlier steps. */
export interface EwStepOf<Op> {
  readonly node: Node;
  readonly op: Op;
  /** Operand value names (null: omitted optional operand, or not data, as CastLike's second). */
  readonly inputs: readonly (string | null)[];
  readonly output: string;
  readonly outType: DType;
  readonly attrs: AttrReader;
  readonly opset: number;
}

/** An elementwise program: external operands (bound buffers), steps in order, the result. */
export interface EwProgramOf<Step> {
  readonly externals: readonly StaticTensor[];
  readonly steps: readonly Step[];
  readonly result: StaticTensor;
}

/** A single node's data operands (`data`: their indices) as externals, each value bound once. */
export function ewNodeExternals(ctx: CoreContext<unknown>, data: readonly number[]): StaticTensor[] {
  const externals: StaticTensor[] = [];
  for (const i of data) {
    const t = ctx.input(i);
    if (t && !externals.some((e) => e.name === t.name)) externals.push(t);
  }
  return externals;
}
