// Data movement, ported from the WGSL backend (backends/wgsl/ops/movement.ts). Transpose, Expand,
// Slice (any steps), DepthToSpace/SpaceToDepth, Concat and Split are each one copy between two
// affine views (strides + base over an index space), coalesced to the fewest dims that describe
// them; where the source's contiguous dim is not the destination's (a transpose), the copy goes
// through a 32×33 shared-memory tile so both the reads and the writes are coalesced. Tile, Pad,
// Gather, GatherElements and GatherND compute their source offset per element. Every result
// element is written once.
import { depthSpace, depthView, sliceAxes, sliceParams, sliceView, transposePerm } from '../../shared/movement-views.ts';
import type { CudaKernel } from '../kernel.ts';
import { C_TYPE, cudaKernel } from '../kernel.ts';
import type { Alias, CudaContext, StaticTensor } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import {
  affine, broadcastStrides, coalesce, constInts, decompose, elemOf, firstValue, fixIndex, indexNames, literal, normAxis, numElements,
  perElementKernel, readBinding, stridesOf, u, writeBinding,
} from './index-util.ts';

interface Side {
  readonly t: StaticTensor;
  readonly strides: readonly number[];
  readonly base: number;
}

/** The tiled transpose pays off when both tiled extents fill a good part of a 32-wide tile. */
const TILE = 32;
const TILE_ROWS = 8;
const MIN_TILED_EXTENT = 16;

/** dst[view_d(i)] = src[view_s(i)] for every i of `shape`. */
function copyKernel(ctx: CudaContext, what: string, shape: readonly number[], src: Side, dst: Side): CudaKernel[] {
  const n = numElements(shape);
  if (n === 0) return [];
  const c = coalesce(shape, [src.strides, dst.strides]);
  const [ss, ds] = [c.strides[0]!, c.strides[1]!];
  const r = c.shape.length;
  const p = ss.indexOf(1);
  if (r >= 2 && ds[r - 1] === 1 && p >= 0 && p < r - 1 && c.shape[p]! >= MIN_TILED_EXTENT && c.shape[r - 1]! >= MIN_TILED_EXTENT) {
    return [tiledCopy(ctx, what, c.shape, p, src, dst, ss, ds)];
  }
  const contiguous = stridesOf(c.shape);
  const same = (s: readonly number[], base: number) => base === 0 && s.every((v, d) => v === contiguous[d]);
  const srcAt = same(ss, src.base) ? 'flat' : affine(indexNames(r), ss, src.base);
  const dstAt = same(ds, dst.base) ? 'flat' : affine(indexNames(r), ds, dst.base);
  const needIdx = srcAt !== 'flat' || dstAt !== 'flat';
  const bindings = [readBinding(ctx, 'x', src.t), writeBinding(ctx, 'y', dst.t)];
  const used = c.shape.map((_, d) => (srcAt !== 'flat' && ss[d] !== 0) || (dstAt !== 'flat' && ds[d] !== 0));
  return [perElementKernel(ctx, what, bindings, n, [...(needIdx ? decompose('flat', c.shape, 'i', used) : []), `y[${dstAt}] = x[${srcAt}];`])];
}

/**
 * A copy whose source is contiguous along dim p and destination along the last dim q: each block
 * moves a 32×32 tile of (p, q) for one index of the other dims, reading rows along p into shared
 * memory and writing rows along q out of it (the 33-wide rows keep the column reads free of bank
 * conflicts). Blocks are numbered over (other dims, p tiles, q tiles) in grid.x.
 */
function tiledCopy(ctx: CudaContext, what: string, shape: readonly number[], p: number, src: Side, dst: Side, ss: readonly number[], ds: readonly number[]): CudaKernel {
  const r = shape.length;
  const q = r - 1;
  const [P, Q] = [shape[p]!, shape[q]!];
  const [tp, tq] = [Math.ceil(P / TILE), Math.ceil(Q / TILE)];
  const others = shape.map((_, d) => d).filter((d) => d !== p && d !== q);
  const otherShape = others.map((d) => shape[d]!);
  const batch = numElements(otherShape);
  const names = indexNames(others.length, 'o');
  const srcBase = affine(names, others.map((d) => ss[d]!), src.base);
  const dstBase = affine(names, others.map((d) => ds[d]!), dst.base);
  const elem = elemOf(ctx, src.t);
  const body = [
    `__shared__ ${C_TYPE[elem]} tile[${TILE}][${TILE + 1}];`,
    'unsigned b = blockIdx.x;',
    `const unsigned q0 = (b % ${u(tq)}) * ${u(TILE)};`,
    `b /= ${u(tq)};`,
    `const unsigned p0 = (b % ${u(tp)}) * ${u(TILE)};`,
    ...(batch > 1 ? [`b /= ${u(tp)};`, ...decompose('b', otherShape, 'o')] : []),
    `const unsigned sb = ${srcBase};`,
    `const unsigned db = ${dstBase};`,
    // Reads: consecutive threads walk p, the source's contiguous dim.
    `for (unsigned k = threadIdx.y; k < ${u(TILE)}; k += ${u(TILE_ROWS)}) {`,
    `  const unsigned pi = p0 + threadIdx.x, qi = q0 + k;`,
    `  if (pi < ${u(P)} && qi < ${u(Q)}) tile[k][threadIdx.x] = x[sb + pi + ${affine(['qi'], [ss[q]!])}];`,
    '}',
    '__syncthreads();',
    // Writes: consecutive threads walk q, the destination's contiguous dim.
    `for (unsigned k = threadIdx.y; k < ${u(TILE)}; k += ${u(TILE_ROWS)}) {`,
    `  const unsigned pi = p0 + k, qi = q0 + threadIdx.x;`,
    `  if (pi < ${u(P)} && qi < ${u(Q)}) y[db + ${affine(['pi'], [ds[p]!])} + qi] = tile[threadIdx.x][k];`,
    '}',
  ];
  return cudaKernel({
    name: ctx.kernelName(`${what}_tiled`),
    node: ctx.node.name,
    op: ctx.node.op,
    bindings: [readBinding(ctx, 'x', src.t), writeBinding(ctx, 'y', dst.t)],
    body: body.map((l) => `  ${l}`).join('\n'),
    grid: tp * tq * batch,
    block: [TILE, TILE_ROWS, 1],
  });
}

/** A gather of operand 0 into the contiguous result, over the result's shape. */
function gatherView(ctx: CudaContext, what: string, strides: readonly number[], base = 0): CudaKernel[] {
  const y = ctx.output(0)!;
  return copyKernel(ctx, what, y.shape, { t: ctx.input(0)!, strides, base }, { t: y, strides: stridesOf(y.shape), base: 0 });
}

defineOnnxCuda(['Transpose'], (ctx): CudaKernel[] | Alias => {
  const x = ctx.input(0)!;
  const r = x.shape.length;
  const perm = transposePerm(ctx, r);
  if (perm.every((p, i) => p === i)) return { alias: [{ output: 0, input: 0 }] };
  const xs = stridesOf(x.shape);
  return gatherView(ctx, 'transpose', perm.map((p) => xs[normAxis(p, r)]!));
});

defineOnnxCuda(['Expand'], (ctx): CudaKernel[] | Alias => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  // As many elements as the operand: nothing was broadcast, the bytes are the same.
  if (numElements(x.shape) === numElements(y.shape)) return { alias: [{ output: 0, input: 0 }] };
  return gatherView(ctx, 'expand', broadcastStrides(x.shape, y.shape));
});

defineOnnxCuda(['Slice'], (ctx) => {
  const x = ctx.input(0)!;
  const p = sliceParams(ctx, constInts);
  // Step 0 (invalid ONNX) is refused before the view is built; steps past the sliced axes are not read.
  if (sliceAxes(p).some((_, i) => p.steps?.[i] === 0)) return ctx.unsupported('Slice step 0');
  const { strides, base } = sliceView(x.shape, p);
  return gatherView(ctx, 'slice', strides, base);
});

// DepthToSpace / SpaceToDepth: one strided view each (depthView, ../../shared/movement-views.ts).

defineOnnxCuda(['DepthToSpace'], (ctx) => {
  const x = ctx.input(0)!;
  if (x.shape.length !== 4) return ctx.unsupported('DepthToSpace needs a 4-D operand');
  const b = ctx.int('blocksize');
  const mode = ctx.string('mode', 'DCR');
  if (mode !== 'DCR' && mode !== 'CRD') return ctx.unsupported(`DepthToSpace mode '${mode}'`);
  const shape6 = depthSpace(x.shape, b, false);
  const y = ctx.output(0)!;
  return copyKernel(ctx, 'depthtospace', shape6, { t: x, strides: depthView(x.shape, b, mode), base: 0 }, { t: y, strides: stridesOf(shape6), base: 0 });
});

defineOnnxCuda(['SpaceToDepth'], (ctx) => {
  const x = ctx.input(0)!;
  if (x.shape.length !== 4) return ctx.unsupported('SpaceToDepth needs a 4-D operand');
  const b = ctx.int('blocksize');
  const shape6 = depthSpace(x.shape, b, true);
  return copyKernel(ctx, 'spacetodepth', shape6, { t: x, strides: depthView(x.shape, b, 'S2D'), base: 0 }, { t: ctx.output(0)!, strides: stridesOf(shape6), base: 0 });
});

// Concat: one copy per operand into its block of the result; Split: one copy per result. The
// split sizes (attribute, operand or num_outputs, by opset) are the results' static shapes.
defineOnnxCuda(['Concat'], (ctx) => {
  const y = ctx.output(0)!;
  const axis = normAxis(ctx.int('axis'), y.shape.length);
  const ys = stridesOf(y.shape);
  const kernels: CudaKernel[] = [];
  let at = 0;
  ctx.node.inputs.forEach((name, i) => {
    if (!name) return;
    const x = ctx.input(i)!;
    kernels.push(...copyKernel(ctx, `concat${i}`, x.shape, { t: x, strides: stridesOf(x.shape), base: 0 }, { t: y, strides: ys, base: at * ys[axis]! }));
    at += x.shape[axis]!;
  });
  return kernels;
});

defineOnnxCuda(['Split'], (ctx) => {
  const x = ctx.input(0)!;
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const xs = stridesOf(x.shape);
  const kernels: CudaKernel[] = [];
  let at = 0;
  ctx.node.outputs.forEach((_, i) => {
    const y = ctx.output(i);
    if (!y) return ctx.unsupported('Split with an omitted result (its size is unknown)');
    kernels.push(...copyKernel(ctx, `split${i}`, y.shape, { t: x, strides: xs, base: at * xs[axis]! }, { t: y, strides: stridesOf(y.shape), base: 0 }));
    at += y.shape[axis]!;
  });
  return kernels;
});

/**
 * Merge neighbouring dims that `plain` says need no per-dim rule (no padding, no repetition):
 * such a run is one dim of the product of their sizes, for the result and the source alike.
 */
function mergePlain(outShape: readonly number[], inShape: readonly number[], plain: (d: number) => boolean) {
  const out: number[] = [], inn: number[] = [], keep: number[] = [];
  outShape.forEach((o, d) => {
    const last = out.length - 1;
    if (last >= 0 && plain(d) && plain(keep[last]!)) {
      out[last]! *= o;
      inn[last]! *= inShape[d]!;
    } else {
      out.push(o);
      inn.push(inShape[d]!);
      keep.push(d);
    }
  });
  return { out, inn, dims: keep };
}

defineOnnxCuda(['Tile'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const m = mergePlain(y.shape, x.shape, (d) => y.shape[d] === x.shape[d]);
  const xs = stridesOf(m.inn);
  const idx = indexNames(m.out.length);
  // Each result coordinate reads the operand at the coordinate modulo its size.
  const terms = idx.map((v, d) => (m.out[d] === m.inn[d] ? v : `(${v} % ${u(m.inn[d]!)})`));
  return [perElementKernel(ctx, 'tile', [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y)], n, [...decompose('flat', m.out), `y[flat] = x[${affine(terms, xs)}];`])];
});

// Pad: the source coordinate per dim by mode; constant mode writes the fill value outside.
defineOnnxCuda(['Pad'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  const mode = ctx.string('mode', 'constant');
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) return ctx.unsupported(`Pad mode '${mode}'`);
  const n = numElements(y.shape);
  if (n === 0) return [];
  const elem = elemOf(ctx, y);
  let pads: number[];
  let fill = literal(0, elem);
  let fillOperand = false;
  if (ctx.opset < 11) {
    pads = [...ctx.ints(ctx.opset < 2 ? 'paddings' : 'pads')];
    fill = literal(ctx.float('value', 0), elem);
  } else {
    pads = constInts(ctx, 1, 'pads')!;
    const cv = ctx.node.inputs[2] ? ctx.input(2) : undefined;
    if (cv && numElements(cv.shape) > 0) {
      const c = ctx.constant(2);
      // A computed fill value is read from its buffer.
      if (c) fill = literal(firstValue(c), elem);
      else fillOperand = true;
    }
  }
  const axes = constInts(ctx, 3, 'axes')?.map((a) => normAxis(a, r)) ?? Array.from({ length: r }, (_, i) => i);
  const before = new Array<number>(r).fill(0);
  axes.forEach((a, i) => (before[a] = pads[i]!));
  if (numElements(x.shape) === 0 && mode !== 'constant') return ctx.unsupported(`Pad mode '${mode}' of an empty operand`);
  const bindings = [readBinding(ctx, 'x', x), ...(fillOperand ? [readBinding(ctx, 'cv', ctx.input(2)!)] : []), writeBinding(ctx, 'y', y)];
  const m = mergePlain(y.shape, x.shape, (d) => y.shape[d] === x.shape[d] && before[d] === 0);
  const xs = stridesOf(m.inn);
  const body = [...decompose('flat', m.out), 'unsigned off = 0u;', ...(mode === 'constant' ? ['bool inside = true;'] : [])];
  m.out.forEach((_, k) => {
    const d = m.dims[k]!;
    const dim = m.inn[k]!;
    const b = before[d]!;
    if (m.out[k] === dim && b === 0) {
      body.push(`off += ${affine([`i${k}`], [xs[k]!])};`);
      return;
    }
    const c = `int c${k} = (int)i${k} - ${b};`;
    const rule: Record<string, string> = {
      constant: `if (c${k} < 0 || c${k} >= ${dim}) inside = false;`,
      edge: `c${k} = c${k} < 0 ? 0 : (c${k} >= ${dim} ? ${dim - 1} : c${k});`,
      wrap: `c${k} = ((c${k} % ${dim}) + ${dim}) % ${dim};`,
      // Mirror without repeating the edge (period 2·(dim − 1)).
      reflect: dim === 1 ? `c${k} = 0;` : `{ const int m = ((c${k} % ${2 * (dim - 1)}) + ${2 * (dim - 1)}) % ${2 * (dim - 1)}; c${k} = m < ${dim} ? m : ${2 * (dim - 1)} - m; }`,
    };
    body.push(c, rule[mode]!, `off += (unsigned)c${k} * ${u(xs[k]!)};`);
  });
  const fillExpr = fillOperand ? 'cv[0]' : fill;
  body.push(mode === 'constant' ? `y[flat] = inside ? x[off] : ${fillExpr};` : 'y[flat] = x[off];');
  return [perElementKernel(ctx, `pad_${mode}`, bindings, n, body)];
});

defineOnnxCuda(['Gather'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  const inner = numElements(x.shape.slice(axis + 1));
  const m = numElements(ind.shape);
  // Result as [outer, m, inner]; an index out of range is clamped (ONNX leaves it undefined).
  return [
    perElementKernel(ctx, 'gather', [readBinding(ctx, 'x', x), readBinding(ctx, 'ind', ind), writeBinding(ctx, 'y', y)], n, [
      ...decompose('flat', [n / (m * inner), m, inner]),
      ...fixIndex('ind[i1]', dim, 'clamp'),
      `y[flat] = x[(i0 * ${u(dim)} + (unsigned)j) * ${u(inner)} + i2];`,
    ]),
  ];
});

defineOnnxCuda(['GatherElements'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  const xs = stridesOf(x.shape);
  const idx = indexNames(r).map((v, d) => (d === axis ? '(unsigned)j' : v));
  return [
    perElementKernel(ctx, 'gatherelements', [readBinding(ctx, 'x', x), readBinding(ctx, 'ind', ind), writeBinding(ctx, 'y', y)], n, [
      ...decompose('flat', ind.shape),
      ...fixIndex('ind[flat]', x.shape[axis]!, 'clamp'),
      ...(r > 0 ? [`(void)i${axis};`] : []),
      `y[flat] = x[${affine(idx, xs)}];`,
    ]),
  ];
});

defineOnnxCuda(['GatherND'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  const b = ctx.int('batch_dims', 0);
  const q = ind.shape.length;
  const k = ind.shape[q - 1]!;
  const slice = numElements(x.shape.slice(b + k));
  const tuples = numElements(ind.shape.slice(b, q - 1));
  const perBatch = numElements(x.shape.slice(b));
  const xs = stridesOf(x.shape.slice(b));
  // [batch, tuple, element of slice] over the result.
  const body = [...decompose('flat', [numElements(x.shape.slice(0, b)), tuples, slice]), `const unsigned t = i0 * ${u(tuples)} + i1;`, `unsigned off = i0 * ${u(perBatch)} + i2;`];
  for (let d = 0; d < k; d++) {
    body.push('{', ...fixIndex(`ind[t * ${u(k)} + ${u(d)}]`, x.shape[b + d]!, 'clamp').map((l) => `  ${l}`), `  off += (unsigned)j * ${u(xs[d]!)};`, '}');
  }
  body.push('y[flat] = x[off];');
  return [perElementKernel(ctx, `gathernd`, [readBinding(ctx, 'x', x), readBinding(ctx, 'ind', ind), writeBinding(ctx, 'y', y)], n, body)];
});
