// The row template shared by reductions, Softmax and the normalizations: the operand's dims are
// split into kept dims (one row per combination) and reduced dims (the row's elements), each an
// index space with strides into the operand (any axes, no transpose pass). A row is reduced by
// one workgroup (strided loop, then a tree in workgroup memory, or subgroup ops first where the
// device has them), or by one thread when rows are short and many.
import { coalesce, stridesOf, IndexSpace, numElements, View } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import type { DeviceCaps, LowerContext } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { buildKernel, elementDispatch, grid, threadIndex, WORKGROUP_INDEX } from '../template.ts';
import { loadAs, readVar, storeAs } from './common.ts';
import { ctypeOf } from './ew-table.ts';

/** An index space with strides into a buffer: `fn <name>_off(flat: u32) -> u32`. */
export class StridedSpace {
  readonly space: IndexSpace;
  readonly views: View[];
  /** `shape` with one strides list per view (e.g. the operand, a broadcast scale). */
  constructor(name: string, shape: readonly number[], strides: readonly (readonly number[])[]) {
    const c = coalesce(shape, strides);
    this.space = new IndexSpace(name, c.shape);
    this.views = c.strides.map((s, i) => new View(`${name}${i}`, s));
  }
  get uniforms(): KernelUniform[] {
    return [...this.space.uniforms, ...this.views.flatMap((v) => v.uniforms)];
  }
  get helpers(): string[] {
    const n = this.space.name;
    return [
      this.space.helper,
      ...this.views.map((v) => v.helper),
      ...this.views.map((v, i) => `fn ${n}_off${i}(flat: u32) -> u32 { return ${v.at(this.space.indices('flat'))}; }`),
    ];
  }
  /** WGSL offset of element `flat` in view i. */
  off(flat: string, i = 0): string {
    return `${this.space.name}_off${i}(${flat})`;
  }
}

export interface RowSplit {
  /** Rows (kept dims): view 0 is the operand. */
  readonly rows: StridedSpace;
  /** Row elements (reduced dims): view 0 is the operand, then `extra` views. */
  readonly elems: StridedSpace;
  readonly outer: number;
  readonly n: number;
}

/**
 * Split `shape` (a contiguous operand) into kept and reduced dims. `extra` are further views over
 * the reduced dims' index space (a scale broadcast over the normalized shape).
 */
export function splitRows(shape: readonly number[], reduced: readonly number[], extra: readonly (readonly number[])[] = []): RowSplit {
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !reduced.includes(i));
  const red = [...reduced].sort((a, b) => a - b);
  const kShape = kept.map((i) => shape[i]!);
  const rShape = red.map((i) => shape[i]!);
  return {
    rows: new StridedSpace('kp', kShape, [kept.map((i) => strides[i]!)]),
    elems: new StridedSpace('rd', rShape, [red.map((i) => strides[i]!), ...extra]),
    outer: numElements(kShape),
    n: numElements(rShape),
  };
}

/** Threads per row: a power of two covering the row, at most 256 (SwiftShader's limit). */
export function rowWorkgroup(n: number, caps: DeviceCaps): number {
  const max = Math.min(256, caps.maxWorkgroupInvocations || 256);
  let wg = 32;
  while (wg < n && wg < max) wg *= 2;
  return Math.min(wg, max);
}

/**
 * WGSL reducing each thread's `acc` across the workgroup with `combine(a, b)` (an expression of
 * `a` and `b`), leaving the total in `<out>` for every thread. `buf` is a workgroup array of
 * `wg` elements. Must be reached in uniform control flow.
 */
export function workgroupReduce(acc: string, out: string, buf: string, wg: number, combine: (a: string, b: string) => string): string {
  return [
    `  ${buf}[lid.x] = ${acc};`,
    '  workgroupBarrier();',
    `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    `    if (lid.x < s) { ${buf}[lid.x] = ${combine(`${buf}[lid.x]`, `${buf}[lid.x + s]`)}; }`,
    '    workgroupBarrier();',
    '  }',
    `  let ${out} = ${buf}[0];`,
    '  workgroupBarrier();',
  ].join('\n');
}

/**
 * The same with a subgroup op first (`subgroupAdd`/`Max`/`Min`): each subgroup's lane 0 leaves
 * its partial in `buf`, and thread 0 folds the wg / sg_size partials. Fewer barriers than the
 * tree; used where the device has subgroups and the combine is one of the three.
 */
export function subgroupReduce(acc: string, out: string, buf: string, wg: number, op: 'Add' | 'Max' | 'Min', combine: (a: string, b: string) => string): string {
  return [
    `  let ${out}_sg = subgroup${op}(${acc});`,
    `  if (sg_id == 0u) { ${buf}[lid.x / sg_size] = ${out}_sg; }`,
    '  workgroupBarrier();',
    '  if (lid.x == 0u) {',
    `    var t = ${buf}[0];`,
    `    for (var i = 1u; i < (${wg}u + sg_size - 1u) / sg_size; i++) { t = ${combine('t', `${buf}[i]`)}; }`,
    `    ${buf}[0] = t;`,
    '  }',
    '  workgroupBarrier();',
    `  let ${out} = ${buf}[0];`,
    '  workgroupBarrier();',
  ].join('\n');
}

/** `-inf`/`+inf`/NaN as f32 values the shader reads at run time (WGSL has no such literals). */
export const FLOAT_SPECIALS = 'var<private> NEG_INF_BITS: u32 = 0xff800000u;\nvar<private> POS_INF_BITS: u32 = 0x7f800000u;';
export const NEG_INF = 'bitcast<f32>(NEG_INF_BITS)';
export const POS_INF = 'bitcast<f32>(POS_INF_BITS)';

/** One reduction over each row: `combine(acc, map(v))` from `init`; its result is `let <name>`. */
export interface RowPhase {
  readonly name: string;
  readonly init: string;
  map(v: string): string;
  combine(a: string, b: string): string;
  /** The subgroup builtin computing `combine` (where it is plain +, max or min). */
  readonly subgroup?: 'Add' | 'Max' | 'Min';
  /** A statement after the result is known (`let mean = sum / f32(u.n);`), for later phases. */
  readonly after?: string;
}

export interface RowProgram {
  readonly what: string;
  /** Reduced dims of operand 0 (`x`). */
  readonly reduced: readonly number[];
  /** Further views over the reduced dims (strides per reduced dim), as `rd_off<1+i>(k)`. */
  readonly elemViews?: readonly (readonly number[])[];
  /** Bindings after `x`: operands read, then results written (`y` is result 0 by convention). */
  readonly vars?: readonly BoundVar[];
  readonly uniforms?: readonly KernelUniform[];
  readonly phases: readonly RowPhase[];
  /** Statements after the phases, run by every thread (`let inv = ...`). */
  readonly rowLets?: readonly string[];
  /** Statements run once per row (`row` in scope). `store(v, var)` converts to var's element. */
  rowWrites?(store: (v: string, varName: string) => string): string[];
  /** Statements per element after the phases (`k`, `v` the element, `at` its offset in x). */
  elemWrites?(store: (v: string, varName: string) => string): string[];
  readonly helpers?: readonly string[];
}

const SHORT_ROW = 16;
const MANY_ROWS = 1024;

/**
 * The row kernel: per row, the phases' reductions in order, then per-row and per-element writes.
 * One workgroup per row, or one thread per row where rows are at most SHORT_ROW long and at least
 * MANY_ROWS many (a workgroup would idle most of its threads).
 */
export function rowKernel(ctx: LowerContext, p: RowProgram): Kernel[] {
  const x = ctx.input(0)!;
  const t = ctypeOf(x.dtype);
  const split = splitRows(x.shape, p.reduced, p.elemViews ?? []);
  if (split.outer === 0) return [];
  const xv = readVar(ctx, 'x', x);
  const vars = [xv, ...(p.vars ?? [])];
  const elemOfVar = new Map(vars.map((v) => [v.name, v.binding.elem]));
  const store = (v: string, name: string) => storeAs(v, elemOfVar.get(name) ?? 'f32');
  const uniforms: KernelUniform[] = [
    { name: 'outer', type: 'u32', value: split.outer },
    { name: 'n', type: 'u32', value: split.n },
    ...split.rows.uniforms,
    ...split.elems.uniforms,
    ...(p.uniforms ?? []),
  ];
  const load = (k: string) => loadAs(`x[base + ${split.elems.off(k)}]`, xv.binding.elem, t);
  const perThread = split.n <= SHORT_ROW && split.outer >= MANY_ROWS;
  const wg = perThread ? 64 : rowWorkgroup(split.n, ctx.caps);
  const useSubgroups = ctx.caps.subgroups && !perThread && p.phases.some((ph) => ph.subgroup);
  const body: string[] = [];
  const helpers = [...split.rows.helpers, ...split.elems.helpers, ...(p.helpers ?? [])];
  const [k0, kStep] = perThread ? ['0u', '1u'] : ['lid.x', `${wg}u`];
  body.push(`  let row = ${perThread ? threadIndex(wg) : WORKGROUP_INDEX};`, '  if (row >= u.outer) { return; }', `  let base = ${split.rows.off('row')};`);
  if (!perThread && p.phases.length) helpers.push(`var<workgroup> red: array<${t}, ${wg}>;`);
  for (const ph of p.phases) {
    const acc = perThread ? ph.name : `${ph.name}_acc`;
    body.push(
      `  var ${acc}: ${t} = ${ph.init};`,
      `  for (var k = ${k0}; k < u.n; k += ${kStep}) {`,
      `    let v = ${load('k')};`,
      `    ${acc} = ${ph.combine(acc, ph.map('v'))};`,
      '  }',
    );
    if (!perThread && useSubgroups && ph.subgroup) body.push(subgroupReduce(acc, ph.name, 'red', wg, ph.subgroup, ph.combine));
    else if (!perThread) body.push(workgroupReduce(acc, ph.name, 'red', wg, ph.combine));
    if (ph.after) body.push(`  ${ph.after}`);
  }
  body.push(...(p.rowLets ?? []).map((l) => `  ${l}`));
  if (p.elemWrites) {
    body.push(`  for (var k = ${k0}; k < u.n; k += ${kStep}) {`, `    let at = base + ${split.elems.off('k')};`, `    let v = ${loadAs('x[at]', xv.binding.elem, t)};`);
    body.push(...p.elemWrites(store).map((l) => `    ${l}`), '  }');
  }
  if (p.rowWrites) {
    const w = p.rowWrites(store).map((l) => `  ${l}`);
    if (w.length) body.push(perThread ? w.join('\n') : `  if (lid.x == 0u) {\n${w.map((l) => `  ${l}`).join('\n')}\n  }`);
  }
  return [
    buildKernel({
      name: ctx.kernelName(p.what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `rows/${p.what}/${perThread ? 'thread' : 'wg'}`,
      vars,
      uniforms,
      workgroupSize: wg,
      helpers,
      body: body.join('\n'),
      dispatch: perThread ? elementDispatch(split.outer, wg, ctx.caps) : grid(split.outer, ctx.caps),
      subgroups: useSubgroups,
    }),
  ];
}
