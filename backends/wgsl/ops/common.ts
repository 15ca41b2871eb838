// Small pieces the movement/reduction/normalization lowerings share: constant operands read as
// integers, axis normalization, storage element and load/store conversions.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { storageElem } from '../kernel.ts';
import type { KernelBinding } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import type { CType } from './ew-table.ts';

/** Operand i's values when it is a constant; an error naming the node when it is computed. */
export function constInts(ctx: LowerContext, i: number, what: string): number[] | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return ctx.unsupported(`${what} (operand ${i}) must be a constant for the WGSL backend`);
  return toNumbers(fromConst(c));
}

export function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

export function elemOf(ctx: LowerContext, t: StaticTensor): KernelBinding['elem'] {
  return storageElem(t.dtype, ctx.caps.f16) ?? ctx.unsupported(`${t.name} is ${t.dtype}, which the WGSL backend cannot store`);
}

export function readVar(ctx: LowerContext, name: string, t: StaticTensor): BoundVar {
  return { name, binding: { value: t.name, access: 'read', elem: elemOf(ctx, t) } };
}

export function writeVar(ctx: LowerContext, name: string, t: StaticTensor): BoundVar {
  return { name, binding: { value: t.name, access: 'read_write', elem: elemOf(ctx, t) } };
}

/** A stored element read in compute type (f16 storage is computed in f32). */
export const loadAs = (v: string, elem: string, ct: CType): string => (elem === 'f16' ? `${ct}(${v})` : v);
/** A compute-type value stored to an element. */
export const storeAs = (v: string, elem: string): string => (elem === 'f16' ? `f16(${v})` : v);
