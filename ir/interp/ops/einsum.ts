// Einsum (any equation: repeated labels within an operand take diagonals, "..." broadcasts,
// implicit mode sums the labels seen more than once and orders the rest alphabetically) and Det.
// Einsum is evaluated directly: one odometer over every label, with each operand's offset moved
// by that label's stride. That is O(product of all label sizes), fine for a reference.
import { isFloat } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { stridesOf } from './util.ts';

/** Ellipsis dims get labels that cannot clash with letters: '0', '1', ... (outermost first). */
function expandTerm(term: string, rank: number, E: number, what: string, fail: (m: string) => never): string[] {
  const dots = term.indexOf('...');
  const letters = term.replace('...', '');
  if (!/^[A-Za-z]*$/.test(letters)) fail(`bad ${what} '${term}' in the Einsum equation`);
  if (dots < 0) {
    if (letters.length !== rank) fail(`${what} '${term}' has ${letters.length} labels for rank ${rank}`);
    return [...letters];
  }
  const e = rank - letters.length;
  if (e < 0) fail(`${what} '${term}' has more labels than rank ${rank}`);
  return [...letters.slice(0, dots), ...ellipsisLabels(e, E), ...letters.slice(dots)];
}

/** The last `e` of the `E` ellipsis labels (ellipses align to the right, as numpy broadcasts). */
function ellipsisLabels(e: number, E: number): string[] {
  return Array.from({ length: e }, (_, i) => String(E - e + i));
}

/**
 * How an Einsum equation iterates: every label (result labels first, then the summed ones), its
 * size, and per operand the stride each label moves it by. Shared by the interpreter and the
 * backends' Einsum kernels (which loop the same way, one result element per thread).
 */
export interface EinsumPlan {
  readonly outShape: number[];
  /** Sizes of all labels: result labels, then summed labels. */
  readonly dims: number[];
  /** strides[i][d]: how far operand i moves when label d advances (0 where it lacks the label). */
  readonly strides: number[][];
}

export function planEinsum(equation: string, shapes: readonly (readonly number[])[], fail: (m: string) => never): EinsumPlan {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') as [string, string] : [eq, undefined];
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) fail(`the equation has ${terms.length} operands, the node ${shapes.length}`);
  let ellipsisRank = 0;
  terms.forEach((t, i) => {
    if (t.includes('...')) ellipsisRank = Math.max(ellipsisRank, shapes[i]!.length - t.replace('...', '').length);
  });
  const labels = terms.map((t, i) => expandTerm(t, shapes[i]!.length, ellipsisRank, 'operand', fail));
  // Label sizes; a 1 broadcasts against any size (only ellipsis dims may differ like that).
  const size = new Map<string, number>();
  labels.forEach((ls, i) =>
    ls.forEach((l, d) => {
      const n = shapes[i]![d]!;
      const had = size.get(l);
      if (had === undefined || had === 1) size.set(l, n);
      else if (n !== 1 && n !== had) fail(`label '${l}' is ${had} in one place and ${n} in another`);
    }),
  );
  let out: string[];
  if (rhs !== undefined) {
    out = expandTerm(rhs, rhs.replace('...', '').length + (rhs.includes('...') ? ellipsisRank : 0), ellipsisRank, 'result', fail);
  } else {
    const count = new Map<string, number>();
    for (const ls of labels) for (const l of ls) if (!/\d/.test(l)) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...ellipsisLabels(ellipsisRank, ellipsisRank), ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  for (const l of out) if (!size.has(l)) fail(`result label '${l}' is not in any operand`);
  const summed = [...size.keys()].filter((l) => !out.includes(l));
  const all = [...out, ...summed];
  const strides = shapes.map((shape, i) => {
    const s = stridesOf(shape);
    return all.map((l) => labels[i]!.reduce((acc, li, d) => (li === l && shape[d] !== 1 ? acc + s[d]! : acc), 0));
  });
  return { outShape: out.map((l) => size.get(l)!), dims: all.map((l) => size.get(l)!), strides };
}

defineOnnxEvals(['Einsum'], (ctx) => {
  const xs: Tensor[] = [];
  for (let i = 0; i < ctx.numInputs; i++) xs.push(ctx.tensor(i));
  const dtype = xs[0]!.dtype;
  const { outShape, dims, strides } = planEinsum(ctx.string('equation'), xs.map((x) => x.shape), ctx.fail);
  const all = dims;
  const nOut = numElements(outShape);
  const nSum = numElements(dims.slice(outShape.length));
  const big = isBigDType(dtype);
  const float = isFloat(dtype);
  const res = (float ? new Float64Array(nOut) : allocData(dtype, nOut)) as AnyArray;
  const srcs = xs.map((x) => x.data as AnyArray);
  const k = xs.length;
  const offs = new Array<number>(k).fill(0);
  const counter = new Array<number>(all.length).fill(0);
  const total = nOut * nSum;
  for (let it = 0, o = -1; it < total; it++) {
    if (it % nSum === 0) o++;
    let p: any = big ? 1n : 1;
    for (let i = 0; i < k; i++) p *= srcs[i]![offs[i]!];
    res[o] += p;
    // Advance the odometer (last label fastest) and every operand's offset with it.
    for (let d = all.length - 1; d >= 0; d--) {
      counter[d]!++;
      for (let i = 0; i < k; i++) offs[i]! += strides[i]![d]!;
      if (counter[d]! < dims[d]!) break;
      for (let i = 0; i < k; i++) offs[i]! -= strides[i]![d]! * dims[d]!;
      counter[d] = 0;
    }
  }
  if (!float) return [makeTensor(dtype, outShape, res as Data)];
  return [roundTo(makeTensor(dtype, outShape, (dtype === 'f64' ? res : Float32Array.from(res as Float64Array)) as Data))];
});

// Det of each trailing [M, M] matrix: LU with partial pivoting in f64.
defineOnnxEvals(['Det'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const m = x.shape[r - 1]!;
  if (r < 2 || x.shape[r - 2] !== m) ctx.fail(`Det needs square matrices, got [${x.shape.join(', ')}]`);
  const batch = x.shape.slice(0, -2);
  const nb = numElements(batch);
  const src = x.data as Float32Array | Float64Array;
  const a = new Float64Array(m * m);
  const out = allocData(x.dtype, nb) as Float32Array | Float64Array;
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < m * m; i++) a[i] = src[b * m * m + i]!;
    let det = 1;
    for (let c = 0; c < m && det !== 0; c++) {
      let piv = c;
      for (let i = c + 1; i < m; i++) if (Math.abs(a[i * m + c]!) > Math.abs(a[piv * m + c]!)) piv = i;
      if (a[piv * m + c] === 0) {
        det = 0;
        break;
      }
      if (piv !== c) {
        for (let j = 0; j < m; j++) {
          const t = a[c * m + j]!;
          a[c * m + j] = a[piv * m + j]!;
          a[piv * m + j] = t;
        }
        det = -det;
      }
      const d = a[c * m + c]!;
      det *= d;
      for (let i = c + 1; i < m; i++) {
        const f = a[i * m + c]! / d;
        if (f !== 0) for (let j = c; j < m; j++) a[i * m + j]! -= f * a[c * m + j]!;
      }
    }
    out[b] = det;
  }
  return [roundTo(makeTensor(x.dtype, batch, out))];
});
