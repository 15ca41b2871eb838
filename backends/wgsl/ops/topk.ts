// TopK: the k largest (or smallest) elements along an axis and their indices, always in sorted
// order (as the interpreter gives them for sorted = 0 too). One thread per element of the operand
// counts the elements of its line that come before it (greater, or smaller for largest = 0; equal
// values by lower index; NaN above every number, equal to NaN), and when that rank is below k
// writes itself to that position. O(n²) per line of n elements, no sort pass and no atomics; the
// rank is a strict total order, so the k positions are each written exactly once.
// k is the result's static size along the axis (the model is specialized, so it is known when
// compiling); a constant k operand must agree with it.
import { topKPlan } from '../../shared/topk-plan.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import { readVar, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { u } from './kernel-util.ts';

const WG = 64;

defineOnnxWgsl(['TopK'], (ctx) => {
  const x = ctx.input(0)!;
  const yv = ctx.output(0);
  const yi = ctx.output(1);
  const { n, k, largest, inner, total, empty } = topKPlan(ctx, x, yv, yi);
  if (empty) return [];
  const ct = ctypeOf(x.dtype);
  const xv = readVar(ctx, 'x', x);
  const vars = [xv, ...(yv ? [writeVar(ctx, 'yv', yv)] : []), ...(yi ? [writeVar(ctx, 'yi', yi)] : [])];
  const isFloat = ct === 'f32';
  // before(a, b): element value a (at position qa) ranks ahead of value b (at qb).
  const greater = isFloat
    ? 'fn tk_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }\n' +
      'fn tk_gt(a: f32, b: f32) -> bool { if (tk_nan(a)) { return !tk_nan(b); } if (tk_nan(b)) { return false; } return a > b; }\n' +
      'fn tk_eq(a: f32, b: f32) -> bool { if (tk_nan(a) || tk_nan(b)) { return tk_nan(a) && tk_nan(b); } return a == b; }'
    : `fn tk_gt(a: ${ct}, b: ${ct}) -> bool { return a > b; }\nfn tk_eq(a: ${ct}, b: ${ct}) -> bool { return a == b; }`;
  const before = largest ? 'tk_gt(a, b)' : 'tk_gt(b, a)';
  const load = (i: string) => (xv.binding.elem === 'f16' ? `f32(x[${i}])` : `x[${i}]`);
  const body = [
    `  let flat = ${threadIndex(WG)};`,
    `  if (flat >= ${u(total)}) { return; }`,
    `  let o = flat / ${u(n * inner)};`,
    `  let p = (flat / ${u(inner)}) % ${u(n)};`,
    `  let i = flat % ${u(inner)};`,
    `  let base = o * ${u(n * inner)} + i;`,
    `  let b = ${load('flat')};`,
    '  var rank = 0u;',
    `  for (var q = 0u; q < ${u(n)}; q++) {`,
    `    let a = ${load(`base + q * ${u(inner)}`)};`,
    `    if (${before} || (q < p && tk_eq(a, b))) { rank++; }`,
    '  }',
    `  if (rank < ${u(k)}) {`,
    `    let at = o * ${u(k * inner)} + rank * ${u(inner)} + i;`,
    ...(yv ? [`    yv[at] = x[flat];`] : []),
    ...(yi ? [`    yi[at] = ${vars[vars.length - 1]!.binding.elem}(p);`] : []),
    '  }',
  ];
  return [
    buildKernel({
      name: ctx.kernelName('topk'),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `topk/${largest ? 'max' : 'min'}`,
      vars,
      uniforms: [],
      workgroupSize: WG,
      helpers: [greater],
      body: body.join('\n'),
      dispatch: elementDispatch(total, WG, ctx.caps),
    }),
  ];
});
