// Data movement. Transpose, Expand, Slice (any steps), DepthToSpace/SpaceToDepth, Concat and
// Split are each one copy between two affine views (strides + base over an index space), which
// the index helper coalesces to the lowest rank that describes them; Tile, Pad, Gather,
// GatherElements and GatherND compute their source index per element. Every result element is
// written once: no intermediate pass.
import { broadcastStrides, coalesce, stridesOf, IndexSpace, numElements, Operand, View } from '../index-helper.ts';
import { depthSpace, depthView, sliceParams, sliceView, transposePerm } from '../../shared/movement-views.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { Alias, LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { uniformAt } from '../uniforms.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import type { BoundVar } from '../template.ts';
import { constInts, normAxis, readVar, writeVar } from './common.ts';

const WG = 64;

interface Side {
  readonly t: StaticTensor;
  readonly strides: readonly number[];
  readonly base: number;
}

/** dst[view_d(i)] = src[view_s(i)] for every i of `shape`. */
function copyKernel(ctx: LowerContext, what: string, shape: readonly number[], src: Side, dst: Side): Kernel[] {
  const n = numElements(shape);
  if (n === 0) return [];
  const c = coalesce(shape, [src.strides, dst.strides]);
  const space = new IndexSpace('o', c.shape);
  const s = new Operand('src', space, c.strides[0]!, src.base);
  const d = new Operand('dst', space, c.strides[1]!, dst.base);
  const needIdx = s.mode === 'view' || d.mode === 'view';
  const vars: BoundVar[] = [readVar(ctx, 'x', src.t), writeVar(ctx, 'y', dst.t)];
  const uniforms: KernelUniform[] = [{ name: 'n', type: 'u32', value: n }, ...(needIdx ? space.uniforms : []), ...s.uniforms, ...d.uniforms];
  return [
    buildKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `copy/r${space.rank}/${s.mode}/${d.mode}`,
      vars,
      uniforms,
      workgroupSize: WG,
      helpers: [...(needIdx ? [space.helper] : []), ...[s.helper, d.helper].filter((h): h is string => !!h)],
      body: [
        `  let flat = ${threadIndex(WG)};`,
        '  if (flat >= u.n) { return; }',
        needIdx ? '  let idx = o_indices(flat);' : '',
        `  y[${d.offset('flat', 'idx')}] = x[${s.offset('flat', 'idx')}];`,
      ]
        .filter(Boolean)
        .join('\n'),
      dispatch: elementDispatch(n, WG, ctx.caps),
    }),
  ];
}

/** A gather of `x` into the contiguous result over the result's shape. */
function gatherView(ctx: LowerContext, what: string, strides: readonly number[], base = 0): Kernel[] {
  const y = ctx.output(0)!;
  return copyKernel(ctx, what, y.shape, { t: ctx.input(0)!, strides, base }, { t: y, strides: stridesOf(y.shape), base: 0 });
}

defineOnnxWgsl(['Transpose'], (ctx): Kernel[] | Alias => {
  const x = ctx.input(0)!;
  const r = x.shape.length;
  const perm = transposePerm(ctx, r);
  if (perm.every((p, i) => p === i)) return { alias: [{ output: 0, input: 0 }] };
  const xs = stridesOf(x.shape);
  return gatherView(ctx, 'transpose', perm.map((p) => xs[p]!));
});

defineOnnxWgsl(['Expand'], (ctx): Kernel[] | Alias => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  if (numElements(x.shape) === numElements(y.shape)) return { alias: [{ output: 0, input: 0 }] };
  return gatherView(ctx, 'expand', broadcastStrides(x.shape, y.shape));
});

defineOnnxWgsl(['Slice'], (ctx) => {
  const x = ctx.input(0)!;
  const { strides, base } = sliceView(x.shape, sliceParams(ctx, constInts));
  return gatherView(ctx, 'slice', strides, base);
});

// DepthToSpace / SpaceToDepth: one strided view each (depthView, ../../shared/movement-views.ts).
defineOnnxWgsl(['DepthToSpace'], (ctx) => {
  const x = ctx.input(0)!;
  const b = ctx.int('blocksize');
  const strides = depthView(x.shape, b, ctx.string('mode', 'DCR') === 'CRD' ? 'CRD' : 'DCR');
  const shape6 = depthSpace(x.shape, b, false);
  const y = ctx.output(0)!;
  return copyKernel(ctx, 'depthtospace', shape6, { t: x, strides, base: 0 }, { t: y, strides: stridesOf(shape6), base: 0 });
});
defineOnnxWgsl(['SpaceToDepth'], (ctx) => {
  const x = ctx.input(0)!;
  const b = ctx.int('blocksize');
  const shape6 = depthSpace(x.shape, b, true);
  return copyKernel(ctx, 'spacetodepth', shape6, { t: x, strides: depthView(x.shape, b, 'S2D'), base: 0 }, { t: ctx.output(0)!, strides: stridesOf(shape6), base: 0 });
});

// Concat: one copy per operand into its block of the result; Split: one copy per result.
defineOnnxWgsl(['Concat'], (ctx) => {
  const y = ctx.output(0)!;
  const axis = normAxis(ctx.int('axis'), y.shape.length);
  const ys = stridesOf(y.shape);
  const kernels: Kernel[] = [];
  let at = 0;
  ctx.node.inputs.forEach((_, i) => {
    const x = ctx.input(i)!;
    kernels.push(...copyKernel(ctx, `concat${i}`, x.shape, { t: x, strides: stridesOf(x.shape), base: 0 }, { t: y, strides: ys, base: at * ys[axis]! }));
    at += x.shape[axis]!;
  });
  return kernels;
});

defineOnnxWgsl(['Split'], (ctx) => {
  const x = ctx.input(0)!;
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const xs = stridesOf(x.shape);
  const kernels: Kernel[] = [];
  let at = 0;
  ctx.node.outputs.forEach((_, i) => {
    const y = ctx.output(i);
    if (!y) return;
    kernels.push(...copyKernel(ctx, `split${i}`, y.shape, { t: x, strides: xs, base: at * xs[axis]! }, { t: y, strides: stridesOf(y.shape), base: 0 }));
    at += y.shape[axis]!;
  });
  return kernels;
});

/** A kernel with one thread per result element; `body` computes `src` (an offset into x) from `idx`. */
function perElement(ctx: LowerContext, what: string, vars: BoundVar[], space: IndexSpace, uniforms: KernelUniform[], helpers: string[], body: string[]): Kernel[] {
  const y = ctx.output(0)!;
  const n = numElements(y.shape);
  if (n === 0) return [];
  return [
    buildKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `${what}/r${space.rank}`,
      vars: [...vars, writeVar(ctx, 'y', y)],
      uniforms: [{ name: 'n', type: 'u32', value: n }, ...space.uniforms, ...uniforms],
      workgroupSize: WG,
      helpers: [space.helper, ...helpers],
      body: [`  let flat = ${threadIndex(WG)};`, '  if (flat >= u.n) { return; }', '  let idx = o_indices(flat);', ...body.map((l) => `  ${l}`)].join('\n'),
      dispatch: elementDispatch(n, WG, ctx.caps),
    }),
  ];
}

const xShapeAt = (d: number) => uniformAt('x_shape', d);
const xStrideAt = (d: number) => uniformAt('x_strides', d);
const xUniforms = (x: StaticTensor): KernelUniform[] => [
  { name: 'x_shape', type: 'i32', value: x.shape.length ? [...x.shape] : [1] },
  { name: 'x_strides', type: 'i32', value: x.shape.length ? stridesOf(x.shape) : [0] },
];

defineOnnxWgsl(['Tile'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const space = new IndexSpace('o', y.shape);
  const terms = y.shape.map((_, d) => `(i32(idx[${d}]) % ${xShapeAt(d)}) * ${xStrideAt(d)}`);
  return perElement(ctx, 'tile', [readVar(ctx, 'x', x)], space, xUniforms(x), [], [`y[flat] = x[${terms.length ? terms.join(' + ') : '0'}];`]);
});

// Pad: the source coordinate per dim by mode; constant mode writes the fill value outside.
defineOnnxWgsl(['Pad'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  const mode = ctx.string('mode', 'constant');
  let pads: number[];
  let fill = 0;
  if (ctx.opset < 11) {
    pads = [...ctx.ints(ctx.opset < 2 ? 'paddings' : 'pads')];
    fill = ctx.float('value', 0);
  } else {
    pads = constInts(ctx, 1, 'pads')!;
    const v = constInts(ctx, 2, 'constant_value');
    if (v && v.length) fill = v[0]!;
  }
  const axes = constInts(ctx, 3, 'axes')?.map((a) => normAxis(a, r)) ?? Array.from({ length: r }, (_, i) => i);
  const before = new Array<number>(r).fill(0);
  axes.forEach((a, i) => (before[a] = pads[i]!));
  const space = new IndexSpace('o', y.shape);
  const xv = readVar(ctx, 'x', x);
  const fillU: KernelUniform = { name: 'fill', type: xv.binding.elem === 'f32' || xv.binding.elem === 'f16' ? 'f32' : xv.binding.elem === 'u32' ? 'u32' : 'i32', value: fill };
  const coord: Record<string, string> = {
    edge: 'c = clamp(c, 0, dim - 1);',
    wrap: 'c = ((c % dim) + dim) % dim;',
    // Mirror without repeating the edge (period 2·(dim − 1)).
    reflect: 'if (dim == 1) { c = 0; } else { let p = 2 * (dim - 1); let m = ((c % p) + p) % p; c = select(p - m, m, m < dim); }',
  };
  const body = ['var off = 0i;', 'var inside = true;'];
  for (let d = 0; d < r; d++) {
    body.push(`{ let dim = ${xShapeAt(d)}; var c = i32(idx[${d}]) - ${uniformAt('before', d)};`);
    body.push(mode === 'constant' ? '  if (c < 0 || c >= dim) { inside = false; }' : `  ${coord[mode] ?? ctx.unsupported(`Pad mode ${mode}`)}`);
    body.push(`  off += c * ${xStrideAt(d)}; }`);
  }
  const fillExpr = xv.binding.elem === 'f16' ? 'f16(u.fill)' : 'u.fill';
  body.push(`if (inside) { y[flat] = x[off]; } else { y[flat] = ${fillExpr}; }`);
  return perElement(ctx, 'pad', [xv], space, [...xUniforms(x), { name: 'before', type: 'i32', value: r ? before : [0] }, fillU], [], body);
});

/** An index read from an index tensor (i64/i32 held as i32), made non-negative against `dim`. */
const fixIndex = (v: string, dim: string) => `{ let raw = ${v}; j = select(raw, raw + ${dim}, raw < 0); }`;

defineOnnxWgsl(['Gather'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const outer = numElements(x.shape.slice(0, axis));
  const inner = numElements(x.shape.slice(axis + 1));
  const space = new IndexSpace('o', [outer, numElements(ind.shape), inner]);
  return perElement(ctx, 'gather', [readVar(ctx, 'x', x), readVar(ctx, 'ind', ind)], space, [{ name: 'dim', type: 'i32', value: x.shape[axis]! }], [], [
    'var j = 0i;',
    fixIndex('i32(ind[idx[1]])', 'u.dim'),
    `y[flat] = x[(idx[0] * u32(u.dim) + u32(j)) * ${space.dim(2)} + idx[2]];`,
  ]);
});

defineOnnxWgsl(['GatherElements'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  const space = new IndexSpace('o', ind.shape);
  const view = new View('xv', stridesOf(x.shape));
  return perElement(ctx, 'gatherelements', [readVar(ctx, 'x', x), readVar(ctx, 'ind', ind)], space, [...view.uniforms, { name: 'dim', type: 'i32', value: x.shape[axis]! }, { name: 'axis', type: 'u32', value: axis }], [view.helper], [
    'var j = 0i;',
    fixIndex('i32(ind[flat])', 'u.dim'),
    'var at = idx;',
    'at[u.axis] = u32(j);',
    `y[flat] = x[${view.at('at')}];`,
  ]);
});

defineOnnxWgsl(['GatherND'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const b = ctx.int('batch_dims', 0);
  const q = ind.shape.length;
  const k = ind.shape[q - 1]!;
  const slice = numElements(x.shape.slice(b + k));
  const tuples = numElements(ind.shape.slice(b, q - 1));
  const perBatch = numElements(x.shape.slice(b));
  const xs = stridesOf(x.shape.slice(b));
  // [batch, tuple, element of slice] over the result.
  const space = new IndexSpace('o', [numElements(x.shape.slice(0, b)), tuples, slice]);
  const body = ['let t = idx[0] * ' + space.dim(1) + ' + idx[1];', `var off = idx[0] * ${perBatch}u + idx[2];`, 'var j = 0i;'];
  for (let d = 0; d < k; d++) {
    body.push(fixIndex(`i32(ind[t * ${k}u + ${d}u])`, `${x.shape[b + d]}i`), `off += u32(j) * ${xs[d]}u;`);
  }
  body.push('y[flat] = x[off];');
  return perElement(ctx, `gathernd_k${k}`, [readVar(ctx, 'x', x), readVar(ctx, 'ind', ind)], space, [], [], body);
});
