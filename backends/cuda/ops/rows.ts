// The row template shared by the CUDA reductions, Softmax and the normalizations. The operand's
// dims split into kept dims (one row per combination) and reduced dims (the row's elements); both
// are read in place through baked-in strides (any axes, no transpose pass). Each thread folds its
// share of a row into a small partial state (a sum, an online-softmax (max, Σexp) pair, a Welford
// (count, mean, M2) triple, an (index, value) pair), then partials are merged:
//   warp   — one warp per row (rows ≤ 256 elements): __shfl_down_sync to lane 0, then broadcast;
//   block  — one block per row (longer rows): warp shuffles, then one partial per warp in
//            __shared__, folded by every thread in the same order (so all agree bit for bit);
//   column — rows whose neighbours are neighbours in memory (the innermost dim is kept, e.g. a
//            reduction over axis 0): a 32×Y block, threadIdx.x picks one of 32 adjacent rows (a
//            warp's loads coalesce) and threadIdx.y splits the row; partials merge in __shared__.
// After the merge every thread of the row holds the whole row's state, so per-element writes
// (Softmax, norms) reuse the same partition of the row.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { coalesce, numElements, stridesOf } from '../../wgsl/index-helper.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { C_TYPE, cudaElem, cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';

export { numElements, stridesOf };

// ---- bindings, types, conversions ----

export function elemOf(ctx: CudaContext, t: StaticTensor): CudaElem {
  return cudaElem(t.dtype) ?? ctx.unsupported(`${t.name} is ${t.dtype}, which CUDA kernels cannot store`);
}

export function bindRead(ctx: CudaContext, param: string, t: StaticTensor): CudaBinding {
  return { value: t.name, access: 'read', elem: elemOf(ctx, t), param };
}

export function bindWrite(ctx: CudaContext, param: string, t: StaticTensor): CudaBinding {
  return { value: t.name, access: 'read_write', elem: elemOf(ctx, t), param };
}

/** The C type arithmetic runs in. */
export type Compute = 'float' | 'double' | 'int' | 'unsigned' | 'long long' | 'unsigned long long';

export const isFloatElem = (e: CudaElem): boolean => e === 'f32' || e === 'f64' || e === 'f16' || e === 'bf16';

/** Floats compute in float (f64 in double); integers in int / unsigned / 64-bit as wide as they are. */
export function computeOf(e: CudaElem): Compute {
  switch (e) {
    case 'f16': case 'bf16': case 'f32': return 'float';
    case 'f64': return 'double';
    case 'i8': case 'i16': case 'i32': return 'int';
    case 'u8': case 'u16': case 'u32': case 'bool': return 'unsigned';
    case 'i64': return 'long long';
    case 'u64': return 'unsigned long long';
  }
}

/** `expr` (an element of storage `e`) as a `to` value. */
export function loadAs(expr: string, e: CudaElem, to: Compute): string {
  if (e === 'f16' || e === 'bf16') {
    const f = `${e === 'f16' ? '__half2float' : '__bfloat162float'}(${expr})`;
    return to === 'float' ? f : `(${to})${f}`;
  }
  return C_TYPE[e] === to || (e === 'f32' && to === 'float') ? expr : `(${to})(${expr})`;
}

/** A computed value `expr` converted for storage as `e` (f16/bf16 round to nearest even). */
export function storeAs(expr: string, e: CudaElem): string {
  if (e === 'f16') return `__float2half_rn((float)(${expr}))`;
  if (e === 'bf16') return `__float2bfloat16_rn((float)(${expr}))`;
  if (e === 'bool') return `(uint8_t)((${expr}) != 0)`;
  return `(${C_TYPE[e]})(${expr})`;
}

/** A literal of the compute type (floats exact to their precision; ±∞ and NaN spelled out). */
export function literal(v: number, c: Compute): string {
  if (c === 'float' || c === 'double') {
    if (Number.isNaN(v)) return c === 'float' ? '__int_as_float(0x7fc00000)' : '__longlong_as_double(0x7ff8000000000000LL)';
    if (!Number.isFinite(v)) return c === 'float' ? (v > 0 ? 'INFINITY' : '-INFINITY') : v > 0 ? '((double)INFINITY)' : '(-(double)INFINITY)';
    if (c === 'float') {
      const s = Math.fround(v).toPrecision(9);
      return `${s.includes('e') || s.includes('.') ? s : `${s}.0`}f`;
    }
    const s = v.toPrecision(17);
    return s.includes('e') || s.includes('.') ? s : `${s}.0`;
  }
  if (c === 'unsigned') return `${v}u`;
  if (c === 'unsigned long long') return `${BigInt(v)}ULL`;
  // The most negative value has no literal of its own.
  if (c === 'int') return v === -(2 ** 31) ? '(-2147483647 - 1)' : `${v}`;
  return `${v}LL`;
}

/** float → `name`f, double → `name` (expf / exp). */
export const fn = (name: string, c: Compute): string => (c === 'float' ? `${name}f` : name);

/** 1/√x in the compute type. */
export const rsqrtOf = (x: string, c: Compute): string => (c === 'float' ? `rsqrtf(${x})` : `(1.0 / sqrt(${x}))`);

/** Operand i's contents as integers when it is a constant; undefined when it is omitted. */
export function constInts(ctx: CudaContext, i: number, what: string): number[] | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return ctx.unsupported(`${what} (operand ${i}) must be a constant for the CUDA backend`);
  return toNumbers(fromConst(c));
}

export const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

// ---- index arithmetic ----

/**
 * C offset of flat index `idx` in a space of `shape` walked with `strides` (already coalesced):
 * `((idx / inner) % dim) * stride` per dim, with the constant folding nvcc would do done here.
 */
export function offsetExpr(idx: string, shape: readonly number[], strides: readonly number[]): string {
  const terms: string[] = [];
  let inner = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    const s = strides[i]!;
    if (d > 1 && s !== 0) {
      let t = inner === 1 ? idx : `(${idx} / ${inner}u)`;
      if (i > 0) t = `(${t} % ${d}u)`;
      terms.unshift(s === 1 ? t : `${t} * ${s}u`);
    }
    inner *= d;
  }
  return terms.length ? terms.join(' + ') : '0u';
}

// ---- the row kernel ----

export interface RowVar {
  readonly name: string;
  readonly type: string;
  readonly init: string;
}

/** A thread's partial over part of a row, and how two partials merge. */
export interface RowReduction {
  readonly vars: readonly RowVar[];
  /** Statements folding element `v` (the compute type) at row index `k` into the vars. */
  readonly step: string;
  /** Statements folding another partial (its vars named `o_<name>`) into the vars. */
  readonly merge: string;
  /** Fold each thread's first element in place of `init` (ArgMax: every row has one). */
  readonly seedFromFirst?: string;
}

export interface RowKernelSpec {
  readonly what: string;
  /** Operand 0, parameter `x` (contiguous, read as `shape`). */
  readonly x: CudaBinding;
  readonly compute: Compute;
  /** The logical shape of x (any reshape of its contiguous bytes) and its reduced axes. */
  readonly shape: readonly number[];
  readonly reduced: readonly number[];
  /** Further views over the reduced dims (strides per reduced axis, ascending): `off<1+i>` in writes. */
  readonly elemViews?: readonly (readonly number[])[];
  /** Further bindings (operands read, results written). */
  readonly bindings: readonly CudaBinding[];
  readonly reduction: RowReduction;
  /** Statements after the merge, run by every thread of the row (`row` in scope). */
  readonly rowLets?: readonly string[];
  /** Statements per element after the merge: `at` (offset in x), `v`, `k`, and `off1`, `off2`… for the views. */
  readonly elemWrites?: readonly string[];
  /** Statements run once per row (`row` in scope). */
  readonly rowWrites?: readonly string[];
  readonly helpers?: readonly string[];
}

type Strategy = { kind: 'warp'; warps: number } | { kind: 'block'; threads: number } | { kind: 'column'; y: number };

const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Rows up to this long get a warp each; longer ones a block. */
export const WARP_ROW_MAX = 256;

function chooseStrategy(outer: number, n: number, rowsInnerStride: number): Strategy {
  if (n > 1 && rowsInnerStride === 1 && outer > 1) return { kind: 'column', y: clamp(pow2ceil(Math.ceil(n / 8)), 1, 16) };
  if (n <= WARP_ROW_MAX) return { kind: 'warp', warps: outer >= 4096 ? 8 : 4 };
  return { kind: 'block', threads: clamp(pow2ceil(Math.ceil(n / 4)), 64, 512) };
}

/** The row kernel: per row, the reduction, then the per-row lets, per-element and per-row writes. */
export function rowKernel(ctx: CudaContext, p: RowKernelSpec): CudaKernel[] {
  const shape = p.shape;
  const strides = stridesOf(shape);
  const red = [...p.reduced].sort((a, b) => a - b);
  const kept = shape.map((_, i) => i).filter((i) => !red.includes(i));
  const outer = numElements(kept.map((i) => shape[i]!));
  const n = numElements(red.map((i) => shape[i]!));
  if (outer === 0) return [];
  const rowsC = coalesce(kept.map((i) => shape[i]!), [kept.map((i) => strides[i]!)]);
  const elemsC = coalesce(red.map((i) => shape[i]!), [red.map((i) => strides[i]!), ...(p.elemViews ?? [])]);
  const rowOff = offsetExpr('row', rowsC.shape, rowsC.strides[0]!);
  const innerStride = rowsC.shape.length && rowsC.shape[rowsC.shape.length - 1]! > 1 ? rowsC.strides[0]![rowsC.shape.length - 1]! : 0;
  const st = chooseStrategy(outer, n, innerStride);
  const off = (k: string, view = 0) => offsetExpr(k, elemsC.shape, elemsC.strides[view]!);
  const r = p.reduction;
  const load = (at: string) => loadAs(`x[${at}]`, p.x.elem, p.compute);

  const b: string[] = [];
  let k0: string, kStep: string, leader: string, live = '';
  let block: [number, number, number], grid: number;
  if (st.kind === 'warp') {
    b.push(`  const unsigned row = blockIdx.x * ${st.warps}u + (threadIdx.x >> 5);`, `  if (row >= ${outer}u) return;`, '  const unsigned lane = threadIdx.x & 31u;');
    [k0, kStep, leader] = ['lane', '32u', 'lane == 0u'];
    block = [32 * st.warps, 1, 1];
    grid = Math.ceil(outer / st.warps);
  } else if (st.kind === 'block') {
    b.push('  const unsigned row = blockIdx.x;');
    [k0, kStep, leader] = ['threadIdx.x', `${st.threads}u`, 'threadIdx.x == 0u'];
    block = [st.threads, 1, 1];
    grid = outer;
  } else {
    // Threads past the last row work on the last row (they must reach the barriers) but write nothing.
    b.push('  const unsigned row_id = blockIdx.x * 32u + threadIdx.x;', `  const bool live = row_id < ${outer}u;`, `  const unsigned row = live ? row_id : ${outer - 1}u;`);
    [k0, kStep, leader, live] = ['threadIdx.y', `${st.y}u`, 'live && threadIdx.y == 0u', 'live'];
    block = [32, st.y, 1];
    grid = Math.ceil(outer / 32);
  }
  const usesX = n > 0;
  if (usesX) b.push(`  const unsigned base = ${rowOff};`);
  // A single row (offset 0) or an empty one may not read `row` again.
  b.push('  (void)row;');
  for (const v of r.vars) b.push(`  ${v.type} ${v.name} = ${v.init};`);
  if (usesX) {
    if (r.seedFromFirst) b.push(`  {\n    const ${p.compute} v = ${load('base')};\n    const unsigned k = 0u;\n    (void)k;\n    ${r.seedFromFirst}\n  }`);
    b.push(`  for (unsigned k = ${k0}; k < ${n}u; k += ${kStep}) {`, `    const ${p.compute} v = ${load(`base + ${off('k')}`)};`, indent(r.step, 4), '  }');
  }
  b.push(mergeCode(st, r));
  for (const l of p.rowLets ?? []) b.push(`  ${l}`);
  if (p.elemWrites?.length && usesX) {
    const views = (p.elemViews ?? []).map((_, i) => `    const unsigned off${i + 1} = ${off('k', i + 1)};`);
    b.push(
      `  ${live ? `if (${live}) ` : ''}for (unsigned k = ${k0}; k < ${n}u; k += ${kStep}) {`,
      `    const unsigned at = base + ${off('k')};`,
      ...views,
      `    const ${p.compute} v = ${load('at')};`,
      ...p.elemWrites.map((l) => `    ${l}`),
      '  }',
    );
  }
  if (p.rowWrites?.length) b.push(`  if (${leader}) {`, ...p.rowWrites.map((l) => `    ${l}`), '  }');
  else if (st.kind === 'warp') b.push('  (void)lane;');

  const bindings = usesX ? [p.x, ...p.bindings] : p.bindings;
  return [
    cudaKernel({
      name: ctx.kernelName(p.what),
      node: ctx.node.name,
      op: ctx.node.op,
      bindings,
      helpers: p.helpers,
      body: b.join('\n'),
      grid,
      block,
    }),
  ];
}

const indent = (s: string, n: number) => s.split('\n').map((l) => ' '.repeat(n) + l.trim()).join('\n');

/** Merge every thread's partial so that all threads of the row hold the row's state. */
function mergeCode(st: Strategy, r: RowReduction): string {
  const other = (src: (v: RowVar) => string) => r.vars.map((v) => `const ${v.type} o_${v.name} = ${src(v)};`).join('\n');
  const warpDown = [
    '  for (unsigned dist = 16u; dist > 0u; dist >>= 1) {',
    indent(other((v) => `__shfl_down_sync(0xffffffffu, ${v.name}, dist)`), 4),
    indent(r.merge, 4),
    '  }',
  ].join('\n');
  if (st.kind === 'warp') {
    // Lane 0 holds the warp's total; broadcasting it gives every lane the same bits.
    return [warpDown, ...r.vars.map((v) => `  ${v.name} = __shfl_sync(0xffffffffu, ${v.name}, 0);`)].join('\n');
  }
  if (st.kind === 'block') {
    const w = st.threads / 32;
    return [
      warpDown,
      ...r.vars.map((v) => `  __shared__ ${v.type} sh_${v.name}[${w}];`),
      '  if ((threadIdx.x & 31u) == 0u) {',
      ...r.vars.map((v) => `    sh_${v.name}[threadIdx.x >> 5] = ${v.name};`),
      '  }',
      '  __syncthreads();',
      ...r.vars.map((v) => `  ${v.name} = sh_${v.name}[0];`),
      `  for (unsigned w = 1u; w < ${w}u; ++w) {`,
      indent(other((v) => `sh_${v.name}[w]`), 4),
      indent(r.merge, 4),
      '  }',
    ].join('\n');
  }
  if (st.y === 1) return '';
  return [
    ...r.vars.map((v) => `  __shared__ ${v.type} sh_${v.name}[${st.y}][32];`),
    ...r.vars.map((v) => `  sh_${v.name}[threadIdx.y][threadIdx.x] = ${v.name};`),
    '  __syncthreads();',
    ...r.vars.map((v) => `  ${v.name} = sh_${v.name}[0][threadIdx.x];`),
    `  for (unsigned w = 1u; w < ${st.y}u; ++w) {`,
    indent(other((v) => `sh_${v.name}[w][threadIdx.x]`), 4),
    indent(r.merge, 4),
    '  }',
  ].join('\n');
}

// ---- partial states shared by several ops ----

/** Welford (count, mean, M2): one pass, numerically stable; merges by Chan's formula. */
export function welford(c: Compute): RowReduction {
  const one = literal(1, c);
  return {
    vars: [
      { name: 'cnt', type: c, init: literal(0, c) },
      { name: 'mean', type: c, init: literal(0, c) },
      { name: 'm2', type: c, init: literal(0, c) },
    ],
    step: `cnt += ${one};\nconst ${c} d = v - mean;\nmean += d / cnt;\nm2 += d * (v - mean);`,
    merge: [
      `if (o_cnt > ${literal(0, c)}) {`,
      `  const ${c} tot = cnt + o_cnt;`,
      `  const ${c} f = o_cnt / tot;`,
      `  const ${c} d = o_mean - mean;`,
      '  mean += d * f;',
      '  m2 += o_m2 + d * d * cnt * f;',
      '  cnt = tot;',
      '}',
    ].join('\n'),
  };
}

/**
 * Online softmax (m, s): m the running max, s = Σ exp(v − m) rescaled whenever m grows. −∞
 * elements add nothing; a +∞ makes s NaN, as exp(∞ − ∞) does in the two-pass form.
 */
export function onlineSoftmax(c: Compute): RowReduction {
  const inf = literal(Infinity, c);
  const exp = fn('exp', c);
  return {
    vars: [
      { name: 'm', type: c, init: literal(-Infinity, c) },
      { name: 's', type: c, init: literal(0, c) },
    ],
    step: [
      'if (v > m) {',
      `  s = s * ${exp}(m - v) + (v == ${inf} ? ${literal(NaN, c)} : ${literal(1, c)});`,
      '  m = v;',
      `} else if (v != -${inf}) {`,
      `  s += ${exp}(v - m);`,
      '}',
    ].join('\n'),
    merge: [
      `const ${c} mn = ${fn('fmax', c)}(m, o_m);`,
      `if (mn != -${inf}) {`,
      `  s = s * ${exp}(m - mn) + o_s * ${exp}(o_m - mn);`,
      '  m = mn;',
      '}',
    ].join('\n'),
  };
}
