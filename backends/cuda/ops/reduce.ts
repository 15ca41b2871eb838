// Reduce* and ArgMax/ArgMin as row kernels (./rows.ts): any set of axes read in place, one warp
// or block per row, or 32 adjacent rows per block where rows interleave in memory. Floats
// accumulate in float (f64 in double); integer sums, products and squares in 64-bit unsigned
// arithmetic, which wraps exactly as the result type does when narrowed (no signed overflow).
// An empty reduction yields the identity: 0, 1, −∞/+∞ (the type's limits for integers), NaN for
// a mean, −∞ for LogSum/LogSumExp.
import { reduceAxesInputSince, resolveReduceAxes } from '../../../ir/ops/reduce.ts';
import type { CudaElem, CudaKernel } from '../kernel.ts';
import type { Alias, CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import type { Compute, RowReduction } from './rows.ts';
import { bindRead, bindWrite, computeOf, constInts, elemOf, fn, isFloatElem, literal, normAxis, numElements, onlineSoftmax, rowKernel, storeAs } from './rows.ts';

/** The type's lowest and highest values as C expressions of its compute type. */
const LIMITS: Partial<Record<CudaElem, readonly [string, string]>> = {
  i8: ['-128', '127'], i16: ['-32768', '32767'], i32: ['(-2147483647 - 1)', '2147483647'],
  u8: ['0u', '255u'], u16: ['0u', '65535u'], u32: ['0u', '4294967295u'], bool: ['0u', '1u'],
  i64: ['(-9223372036854775807LL - 1)', '9223372036854775807LL'], u64: ['0ULL', '18446744073709551615ULL'],
};

interface Kind {
  /** Defined on floats only (a square root or logarithm of an integer sum). */
  readonly floatOnly?: boolean;
  /** Max/Min compare in the element's own compute type; the rest accumulate wide. */
  readonly compare?: 'max' | 'min';
  readonly init: 0 | 1;
  /** The fold of element `v` into `acc` (a statement). */
  step(v: string, acc: Compute, e: CudaElem): string;
  /** The fold of partial `o` into `acc`. */
  merge(acc: Compute): string;
  finish?(acc: Compute, n: number, e: CudaElem): string;
}

const WIDE = 'unsigned long long';
const signedInt = (e: CudaElem) => e === 'i8' || e === 'i16' || e === 'i32' || e === 'i64';
const wide = (v: string) => `(${WIDE})(${v})`;
const sumMerge = () => 'acc += o_acc;';

/** NaN from either side wins, as in the interpreter's scan. */
const pick = (cmp: '>' | '<', c: Compute, src: string) =>
  c === 'float' || c === 'double' ? `acc = (${src} != ${src} || ${src} ${cmp} acc) ? ${src} : acc;` : `acc = ${src} ${cmp} acc ? ${src} : acc;`;

const KINDS: Record<string, Kind> = {
  ReduceSum: { init: 0, step: (v, c) => (c === WIDE ? `acc += ${wide(v)};` : `acc += ${v};`), merge: sumMerge },
  ReduceMean: {
    init: 0,
    step: (v, c) => (c === WIDE ? `acc += ${wide(v)};` : `acc += ${v};`),
    merge: sumMerge,
    // Integer means truncate toward zero, as the interpreter's division then narrowing does.
    // A float mean of nothing is NaN (written out: nvcc rejects a constant division by zero).
    finish: (c, n, e) => (c === WIDE ? (signedInt(e) ? `(long long)acc / ${n}LL` : `acc / ${n}ULL`) : n === 0 ? literal(NaN, c) : `acc / ${literal(n, c)}`),
  },
  ReduceProd: { init: 1, step: (v, c) => (c === WIDE ? `acc *= ${wide(v)};` : `acc *= ${v};`), merge: () => 'acc *= o_acc;' },
  ReduceL1: {
    init: 0,
    step: (v, c, e) => (c !== WIDE ? `acc += ${fn('fabs', c)}(${v});` : signedInt(e) ? `acc += ${v} < 0 ? 0ULL - ${wide(v)} : ${wide(v)};` : `acc += ${wide(v)};`),
    merge: sumMerge,
  },
  ReduceL2: { floatOnly: true, init: 0, step: (v) => `acc += ${v} * ${v};`, merge: sumMerge, finish: (c) => `${fn('sqrt', c)}(acc)` },
  ReduceSumSquare: { init: 0, step: (v, c) => (c === WIDE ? `acc += ${wide(v)} * ${wide(v)};` : `acc += ${v} * ${v};`), merge: sumMerge },
  ReduceLogSum: { floatOnly: true, init: 0, step: (v) => `acc += ${v};`, merge: sumMerge, finish: (c) => `${fn('log', c)}(acc)` },
  ReduceMax: { compare: 'max', init: 0, step: (v, c) => pick('>', c, v), merge: (c) => pick('>', c, 'o_acc') },
  ReduceMin: { compare: 'min', init: 0, step: (v, c) => pick('<', c, v), merge: (c) => pick('<', c, 'o_acc') },
};

type Axes = number[] | 'none';

function reduceAxes(ctx: CudaContext, rank: number): Axes {
  const fromInput = ctx.opset >= reduceAxesInputSince(ctx.node.op);
  if (fromInput && ctx.node.inputs[1] && !ctx.constant(1) && ctx.int('keepdims', 1) === 1) {
    // Axes computed at run time: with keepdims the static result shape names them (a dim that
    // became 1); reducing a dim of size 1 or not gives the same values.
    const x = ctx.input(0)!.shape;
    const y = ctx.output(0)!.shape;
    const derived = x.map((_, i) => i).filter((i) => y[i] === 1 && x[i] !== 1);
    // None derived is ambiguous only where empty axes could mean "no-op".
    if (y.length === x.length && (derived.length || ctx.int('noop_with_empty_axes', 0) === 0)) return derived;
  }
  const axes = fromInput ? constInts(ctx, 1, 'axes') : ctx.attr('axes') ? [...ctx.ints('axes')] : undefined;
  return resolveReduceAxes(axes?.map((a) => normAxis(a, rank)), ctx.int('noop_with_empty_axes', 0) === 1, rank);
}

/** Reduced row length. */
const rowLength = (shape: readonly number[], axes: readonly number[]) => numElements(axes.map((a) => shape[a]!));

for (const [op, kind] of Object.entries(KINDS)) {
  defineOnnxCuda([op], (ctx): CudaKernel[] | Alias => {
    const x = ctx.input(0)!;
    const y = ctx.output(0)!;
    const axes = reduceAxes(ctx, x.shape.length);
    if (axes === 'none') return { alias: [{ output: 0, input: 0 }] };
    const e = elemOf(ctx, x);
    const float = isFloatElem(e);
    if (kind.floatOnly && !float) ctx.unsupported(`${op} on ${x.dtype} (its result is not an integer)`);
    if (numElements(y.shape) === 0) return [];
    const n = rowLength(x.shape, axes);
    if (op === 'ReduceMean' && !float && n === 0) ctx.unsupported('ReduceMean of an integer tensor over an empty axis (0 / 0)');
    const own = computeOf(e);
    // The element's compute type for comparisons and floats; 64-bit for integer sums (signed
    // elements widen with their sign, then fold as unsigned: wrap-around is defined).
    const loadType: Compute = float || kind.compare ? own : signedInt(e) ? 'long long' : WIDE;
    const acc: Compute = float || kind.compare ? own : WIDE;
    const limits = LIMITS[e];
    const init = kind.compare && !float ? limits![kind.compare === 'max' ? 0 : 1] : kind.compare ? literal(kind.compare === 'max' ? -Infinity : Infinity, acc) : acc === WIDE ? `${kind.init}ULL` : literal(kind.init, acc);
    const red: RowReduction = { vars: [{ name: 'acc', type: acc, init }], step: kind.step('v', acc, e), merge: kind.merge(acc) };
    return rowKernel(ctx, {
      what: op.toLowerCase(),
      x: bindRead(ctx, 'x', x),
      compute: loadType,
      shape: x.shape,
      reduced: axes,
      bindings: [bindWrite(ctx, 'y', y)],
      reduction: red,
      rowWrites: [`y[row] = ${storeAs(kind.finish ? kind.finish(acc, n, e) : 'acc', elemOf(ctx, y))};`],
    });
  });
}

// log Σ exp(x) as m + log Σ exp(x − m), m the row max, in one pass (online rescaling).
defineOnnxCuda(['ReduceLogSumExp'], (ctx): CudaKernel[] | Alias => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const axes = reduceAxes(ctx, x.shape.length);
  if (axes === 'none') return { alias: [{ output: 0, input: 0 }] };
  const e = elemOf(ctx, x);
  if (!isFloatElem(e)) ctx.unsupported(`ReduceLogSumExp on ${x.dtype} (its result is not an integer)`);
  if (numElements(y.shape) === 0) return [];
  const c = computeOf(e);
  const inf = literal(Infinity, c);
  return rowKernel(ctx, {
    what: 'reducelogsumexp',
    x: bindRead(ctx, 'x', x),
    compute: c,
    shape: x.shape,
    reduced: axes,
    bindings: [bindWrite(ctx, 'y', y)],
    reduction: onlineSoftmax(c),
    // An infinite max (all −∞, empty, or a +∞) is the answer itself: no ∞ − ∞.
    rowWrites: [`y[row] = ${storeAs(`(m == ${inf} || m == -${inf}) ? m : m + ${fn('log', c)}(s)`, elemOf(ctx, y))};`],
  });
});

/**
 * Does candidate (bv, bi) beat (av, ai)? The interpreter scans in order keeping the first best
 * (or the last with select_last_index): so a NaN at index 0 is never displaced, a NaN elsewhere
 * never taken; otherwise the better value, then the preferred index.
 */
function beatsHelper(name: string, c: Compute, max: boolean, last: boolean): string {
  const cmp = max ? '>' : '<';
  const idx = last ? 'bi > ai' : 'bi < ai';
  const float = c === 'float' || c === 'double';
  return [
    `__device__ __forceinline__ bool ${name}(${c} bv, unsigned bi, ${c} av, unsigned ai) {`,
    ...(float
      ? [
          '  const int rb = bv != bv ? (bi == 0u ? 2 : 0) : 1;',
          '  const int ra = av != av ? (ai == 0u ? 2 : 0) : 1;',
          '  if (rb != ra) return rb > ra;',
          `  if (rb == 1 && bv != av) return bv ${cmp} av;`,
        ]
      : [`  if (bv != av) return bv ${cmp} av;`]),
    `  return ${idx};`,
    '}',
  ].join('\n');
}

function argLowering(max: boolean) {
  return (ctx: CudaContext): CudaKernel[] => {
    const x = ctx.input(0)!;
    const y = ctx.output(0)!;
    const axis = normAxis(ctx.int('axis', 0), x.shape.length);
    const last = ctx.int('select_last_index', 0) === 1;
    if (numElements(y.shape) === 0) return [];
    if (x.shape[axis] === 0) ctx.unsupported(`${ctx.node.op} over an empty axis (no index to return)`);
    const e = elemOf(ctx, x);
    const c = computeOf(e);
    const name = `lathe_arg${max ? 'max' : 'min'}_${last ? 'last' : 'first'}_${c.replace(/ /g, '_')}`;
    return rowKernel(ctx, {
      what: max ? 'argmax' : 'argmin',
      x: bindRead(ctx, 'x', x),
      compute: c,
      shape: x.shape,
      reduced: [axis],
      bindings: [bindWrite(ctx, 'y', y)],
      // Every thread starts from index 0 (a real candidate), so idle threads are harmless.
      reduction: {
        vars: [{ name: 'bv', type: c, init: literal(0, c) }, { name: 'bi', type: 'unsigned', init: '0u' }],
        seedFromFirst: 'bv = v;',
        step: `if (${name}(v, k, bv, bi)) { bv = v; bi = k; }`,
        merge: `if (${name}(o_bv, o_bi, bv, bi)) { bv = o_bv; bi = o_bi; }`,
      },
      rowWrites: [`y[row] = ${storeAs('bi', elemOf(ctx, y))};`],
      helpers: [beatsHelper(name, c, max, last)],
    });
  };
}

defineOnnxCuda(['ArgMax'], argLowering(true));
defineOnnxCuda(['ArgMin'], argLowering(false));
