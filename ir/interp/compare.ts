// Comparing run-time values with expected ones, as the conformance runner and `lathe check` do:
// floats within |a − e| ≤ atol + rtol·|e| (NaN matches NaN), everything else exactly; sequences
// and optionals element by element.
import type { RuntimeValue, Tensor } from './tensor.ts';
import { describe, isTensor, toF64 } from './tensor.ts';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const CONFORMANCE_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-5 };

/** Why `got` differs from `want`, or undefined when it matches. */
export function mismatch(got: RuntimeValue | undefined, want: RuntimeValue, tol: Tolerance = CONFORMANCE_TOLERANCE): string | undefined {
  if (got === undefined) return 'no value';
  if (isTensor(want)) {
    if (!isTensor(got)) return `got ${describe(got)}, expected ${describe(want)}`;
    if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
    if (got.shape.join() !== want.shape.join()) return `shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`;
    const g = got.data as ArrayLike<unknown>;
    const w = want.data as ArrayLike<unknown>;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < w.length; i++) {
      const a = g[i];
      const e = w[i];
      if (a === e) continue;
      if (typeof a === 'number' && typeof e === 'number') {
        if (Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e)) continue;
      }
      if (bad++ === 0) first = i;
    }
    if (bad === 0) return undefined;
    return `${bad} of ${w.length} elements differ; first at ${first}: got ${String(g[first])}, expected ${String(w[first])}`;
  }
  if (isTensor(got) || got.kind !== want.kind) return `got ${describe(got)}, expected ${describe(want)}`;
  if (want.kind === 'sequence') {
    const items = (got as typeof want).items;
    if (items.length !== want.items.length) return `sequence of ${items.length}, expected ${want.items.length}`;
    for (let i = 0; i < items.length; i++) {
      const m = mismatch(items[i], want.items[i]!, tol);
      if (m) return `item ${i}: ${m}`;
    }
    return undefined;
  }
  const value = (got as typeof want).value;
  if (want.value === undefined) return value === undefined ? undefined : `got ${describe(got)}, expected an empty optional`;
  return value === undefined ? 'got an empty optional' : mismatch(value, want.value, tol);
}

/** max |got − want| / max |want| (the error itself where want is all zeros). */
export function maxRelError(got: Tensor, want: Tensor): number {
  const a = toF64(got);
  const b = toF64(want);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? err : err / scale;
}

/** ‖got − want‖₂ / ‖want‖₂ over all elements (the error itself where want is all zeros). */
export function l2RelError(got: Tensor, want: Tensor): number {
  const a = toF64(got);
  const b = toF64(want);
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return n === 0 ? Math.sqrt(e) : Math.sqrt(e / n);
}
