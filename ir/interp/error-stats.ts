// How far one tensor is from a reference: max absolute error, and relative error measured
// against the reference's largest magnitude (max|a − b| / max|b|), which stays meaningful where
// individual reference elements are near zero. Used by `lathe check` and the real-model checks.
import type { Tensor } from './tensor.ts';
import { toF64 } from './tensor.ts';

export interface ErrorStats {
  maxAbs: number;
  /** max|a − b| / max|b| (0 when both are all zero). */
  maxRel: number;
  /** Elements that are NaN in one tensor but not the other. */
  nanMismatches: number;
  shapeMatches: boolean;
}

export function errorStats(actual: Tensor, reference: Tensor): ErrorStats {
  const shapeMatches = actual.shape.join() === reference.shape.join();
  if (!shapeMatches) return { maxAbs: Infinity, maxRel: Infinity, nanMismatches: 0, shapeMatches };
  const a = toF64(actual);
  const b = toF64(reference);
  let maxAbs = 0;
  let scale = 0;
  let nanMismatches = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) nanMismatches++;
      continue;
    }
    if (x === y) {
      if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  const maxRel = maxAbs === 0 ? 0 : scale === 0 ? Infinity : maxAbs / scale;
  return { maxAbs, maxRel, nanMismatches, shapeMatches };
}
