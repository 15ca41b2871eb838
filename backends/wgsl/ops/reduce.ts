// Reduce* and ArgMax/ArgMin: one workgroup per output row (strided loads, then a tree in
// workgroup memory), or one thread per row when rows are short and many. Any set of axes is read
// in place through the row template (./rows.ts); no transpose pass. Accumulation is in f32/i32.
import { reduceAxesInputSince, resolveReduceAxes } from '../../../ir/ops/reduce.ts';
import { numElements } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { Alias, LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { buildKernel, grid, WORKGROUP_INDEX } from '../template.ts';
import { constInts, loadAs, normAxis, readVar, writeVar } from './common.ts';
import type { CType } from './ew-table.ts';
import { ctypeOf } from './ew-table.ts';
import { FLOAT_SPECIALS, NEG_INF, POS_INF, rowKernel, rowWorkgroup, splitRows } from './rows.ts';

interface Kind {
  /** The subgroup builtin equal to `combine` (sums, and max/min on integers: NaN rules differ). */
  subgroup?(t: CType): 'Add' | 'Max' | 'Min' | undefined;
  init(t: CType): string;
  map(v: string): string;
  combine(a: string, b: string, t: CType): string;
  finish?(acc: string, t: CType): string;
  floatOnly?: boolean;
}

const ISNAN = 'fn rd_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }';
const zero = (t: CType) => (t === 'f32' ? '0.0' : t === 'u32' ? '0u' : '0i');
const one = (t: CType) => (t === 'f32' ? '1.0' : t === 'u32' ? '1u' : '1i');
const add = (a: string, b: string) => `(${a} + ${b})`;
// Max/Min propagate NaN from either side, as the interpreter does.
const maxOf = (a: string, b: string, t: CType) => (t === 'f32' ? `select(${b}, ${a}, rd_isnan(${a}) || ${a} >= ${b})` : `max(${a}, ${b})`);
const minOf = (a: string, b: string, t: CType) => (t === 'f32' ? `select(${b}, ${a}, rd_isnan(${a}) || ${a} <= ${b})` : `min(${a}, ${b})`);
const lowest = (t: CType) => (t === 'f32' ? NEG_INF : t === 'u32' ? '0u' : '(-2147483647i - 1i)');
const highest = (t: CType) => (t === 'f32' ? POS_INF : t === 'u32' ? '0xffffffffu' : '2147483647i');

const KINDS: Record<string, Kind> = {
  ReduceSum: { init: zero, map: (v) => v, combine: add, subgroup: () => 'Add' },
  ReduceMean: { init: zero, map: (v) => v, combine: add, subgroup: () => 'Add', finish: (a, t) => `(${a} / ${t}(u.n))` },
  ReduceProd: { init: one, map: (v) => v, combine: (a, b) => `(${a} * ${b})` },
  ReduceMax: { init: lowest, map: (v) => v, combine: maxOf, subgroup: (t) => (t === 'f32' ? undefined : 'Max') },
  ReduceMin: { init: highest, map: (v) => v, combine: minOf, subgroup: (t) => (t === 'f32' ? undefined : 'Min') },
  ReduceL1: { init: zero, map: (v) => `abs(${v})`, combine: add, subgroup: () => 'Add' },
  ReduceL2: { init: zero, map: (v) => `(${v} * ${v})`, combine: add, subgroup: () => 'Add', finish: (a) => `sqrt(${a})`, floatOnly: true },
  ReduceSumSquare: { init: zero, map: (v) => `(${v} * ${v})`, combine: add, subgroup: () => 'Add' },
  ReduceLogSum: { init: zero, map: (v) => v, combine: add, subgroup: () => 'Add', finish: (a) => `log(${a})`, floatOnly: true },
};

function reduceAxes(ctx: LowerContext, rank: number): number[] | 'none' {
  const fromInput = ctx.opset >= reduceAxesInputSince(ctx.node.op);
  let axes: number[] | undefined;
  if (fromInput && ctx.node.inputs[1] && !ctx.constant(1) && ctx.int('keepdims', 1) === 1) {
    // Axes computed at run time: with keepdims the static result shape names them (a dim
    // that became 1); reducing a dim of size 1 or not gives the same values.
    const x = ctx.input(0)!.shape;
    const y = ctx.output(0)!.shape;
    const derived = x.map((_, i) => i).filter((i) => y[i] === 1 && x[i] !== 1);
    // None derived is ambiguous only where empty axes could mean "no-op" (no finish applied).
    if (y.length === x.length && (derived.length || ctx.int('noop_with_empty_axes', 0) === 0)) return derived;
  }
  if (fromInput) axes = constInts(ctx, 1, 'axes');
  else axes = ctx.attr('axes') ? [...ctx.ints('axes')] : undefined;
  return resolveReduceAxes(axes, ctx.int('noop_with_empty_axes', 0) === 1, rank);
}

for (const [op, kind] of Object.entries(KINDS)) {
  defineOnnxWgsl([op], (ctx): Kernel[] | Alias => {
    const x = ctx.input(0)!;
    const axes = reduceAxes(ctx, x.shape.length);
    if (axes === 'none') return { alias: [{ output: 0, input: 0 }] };
    const t = ctypeOf(x.dtype);
    if (kind.floatOnly && t !== 'f32') ctx.unsupported(`${op} on ${x.dtype}`);
    if (numElements(ctx.output(0)!.shape) === 0) return [];
    return rowKernel(ctx, {
      what: op.toLowerCase(),
      reduced: axes,
      vars: [writeVar(ctx, 'y', ctx.output(0)!)],
      phases: [{ name: 'total', init: kind.init(t), map: kind.map, combine: (a, b) => kind.combine(a, b, t), subgroup: kind.subgroup?.(t) }],
      rowWrites: (store) => [`y[row] = ${store(kind.finish ? kind.finish('total', t) : 'total', 'y')};`],
      helpers: [ISNAN, FLOAT_SPECIALS],
    });
  });
}

// log Σ exp(x − m) + m with m the row max: two phases in one kernel.
defineOnnxWgsl(['ReduceLogSumExp'], (ctx) => {
  const x = ctx.input(0)!;
  const axes = reduceAxes(ctx, x.shape.length);
  if (axes === 'none') return { alias: [{ output: 0, input: 0 }] };
  if (ctypeOf(x.dtype) !== 'f32') ctx.unsupported(`ReduceLogSumExp on ${x.dtype}`);
  return rowKernel(ctx, {
    what: 'reducelogsumexp',
    reduced: axes,
    vars: [writeVar(ctx, 'y', ctx.output(0)!)],
    phases: [
      { name: 'm', init: NEG_INF, map: (v) => v, combine: (a, b) => maxOf(a, b, 'f32') },
      { name: 's', init: '0.0', map: (v) => `exp(${v} - m)`, combine: add, subgroup: 'Add' },
    ],
    // An infinite max (all −∞, or a +∞) is the answer itself; avoid ∞ − ∞.
    rowWrites: (store) => [`y[row] = ${store('select(m + log(s), m, (bitcast<u32>(m) & 0x7fffffffu) == 0x7f800000u)', 'y')};`],
    helpers: [ISNAN, FLOAT_SPECIALS],
  });
});

// ArgMax/ArgMin: (value, index) pairs; ties go to the first index, or the last with
// select_last_index. The result (i64) is stored as the device's i32.
function argLowering(max: boolean) {
  return (ctx: LowerContext): Kernel[] => {
    const x = ctx.input(0)!;
    const y = ctx.output(0)!;
    const t = ctypeOf(x.dtype);
    const axis = normAxis(ctx.int('axis', 0), x.shape.length);
    const last = ctx.int('select_last_index', 0) === 1;
    const split = splitRows(x.shape, [axis]);
    if (split.outer === 0) return [];
    const xv = readVar(ctx, 'x', x);
    const yv = writeVar(ctx, 'y', y);
    const wg = rowWorkgroup(split.n, ctx.caps);
    const better = max ? '>' : '<';
    // Is (bv, bi) better than (av, ai)? Strictly better value, or equal value and preferred index.
    const beats = `fn arg_beats(bv: ${t}, bi: u32, av: ${t}, ai: u32) -> bool { return bv ${better} av || (bv == av && ${last ? 'bi > ai' : 'bi < ai'}); }`;
    const body = [
      `  let row = ${WORKGROUP_INDEX};`,
      '  if (row >= u.outer) { return; }',
      `  let base = ${split.rows.off('row')};`,
      `  var bv: ${t} = ${loadAs(`x[base]`, xv.binding.elem, t)};`,
      '  var bi: u32 = 0u;',
      `  for (var k = lid.x; k < u.n; k += ${wg}u) {`,
      `    let v = ${loadAs(`x[base + ${split.elems.off('k')}]`, xv.binding.elem, t)};`,
      '    if (arg_beats(v, k, bv, bi)) { bv = v; bi = k; }',
      '  }',
      // Threads with no element hold (x[0], 0), which never displaces a real candidate wrongly:
      // index 0's own value is x[0].
      '  rv[lid.x] = bv;',
      '  ri[lid.x] = bi;',
      '  workgroupBarrier();',
      `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
      '    if (lid.x < s && arg_beats(rv[lid.x + s], ri[lid.x + s], rv[lid.x], ri[lid.x])) { rv[lid.x] = rv[lid.x + s]; ri[lid.x] = ri[lid.x + s]; }',
      '    workgroupBarrier();',
      '  }',
      `  if (lid.x == 0u) { y[row] = ${yv.binding.elem === 'u32' ? 'ri[0]' : 'i32(ri[0])'}; }`,
    ];
    return [
      buildKernel({
        name: ctx.kernelName(max ? 'argmax' : 'argmin'),
        node: ctx.node.name,
        op: ctx.node.op,
        key: `arg/${max}/${last}`,
        vars: [xv, yv],
        uniforms: [{ name: 'outer', type: 'u32', value: split.outer }, { name: 'n', type: 'u32', value: split.n }, ...split.rows.uniforms, ...split.elems.uniforms],
        workgroupSize: wg,
        helpers: [...split.rows.helpers, ...split.elems.helpers, beats, `var<workgroup> rv: array<${t}, ${wg}>;`, `var<workgroup> ri: array<u32, ${wg}>;`],
        body: body.join('\n'),
        dispatch: grid(split.outer, ctx.caps),
      }),
    ];
  };
}
defineOnnxWgsl(['ArgMax'], argLowering(true));
defineOnnxWgsl(['ArgMin'], argLowering(false));
