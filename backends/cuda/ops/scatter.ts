// ScatterND and ScatterElements (and opset 9–10 Scatter), ported from the WGSL backend
// (backends/wgsl/ops/scatter.ts) with the interpreter's order semantics: updates apply in index
// order, so a duplicated index keeps the last update (reduction none) or folds the updates in
// order (add, mul, max, min). A copy kernel writes the data to the result, then:
//  - reduction none: one thread per update element. Where two updates may meet (indices computed,
//    or constant with duplicates) a claim kernel first records, per target, the last update that
//    hits it (atomicMax of the update's number in a scratch table the copy kernel fills with −1),
//    and only that update is written: parallel and deterministic.
//  - add/mul/max/min: the updates that can meet are applied in order by one thread: one per
//    element of a slice for ScatterND, one per line along `axis` for ScatterElements.
// An index out of range (undefined in ONNX; an error in the interpreter) drops its update: no
// thread ever writes outside the result.
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { C_TYPE } from '../kernel.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { affine, decompose, elemOf, fixIndex, indexNames, load, normAxis, numElements, perElementKernel, readBinding, store, stridesOf, u, writeBinding } from './index-util.ts';

const WIDE: Partial<Record<CudaElem, string>> = { i8: 'uint32_t', u8: 'uint32_t', i16: 'uint32_t', u16: 'uint32_t', i32: 'uint32_t', u32: 'uint32_t', i64: 'uint64_t', u64: 'uint64_t' };

/** `old` combined with `upd` (both stored elements) by the node's reduction, as a stored element. */
function combine(ctx: CudaContext, elem: CudaElem, old: string, upd: string): string {
  const reduction = ctx.string('reduction', 'none');
  if (elem === 'bool') return ctx.unsupported(`reduction '${reduction}' on bool data`);
  const [a, b] = [load(old, elem), load(upd, elem)];
  const wide = WIDE[elem];
  // Integers add and multiply with wrap-around (unsigned arithmetic: no signed overflow).
  const arith = (op: string) => (wide ? `(${C_TYPE[elem]})((${wide})(${a}) ${op} (${wide})(${b}))` : store(`${a} ${op} ${b}`, elem));
  switch (reduction) {
    case 'add': return arith('+');
    case 'mul': return arith('*');
    case 'max': return `(${a} >= ${b} ? ${old} : ${upd})`;
    case 'min': return `(${a} <= ${b} ? ${old} : ${upd})`;
    default: return ctx.unsupported(`reduction '${reduction}'`);
  }
}

interface Winner {
  /** The table as the copy kernel declares it (scratch: sized once, by its first binding). */
  readonly binding: CudaBinding;
  readonly slots: number;
}

/** The table bound by a later kernel of the node (declared already). */
function bound(win: Winner, access: 'read' | 'read_write'): CudaBinding {
  return { value: win.binding.value, access, elem: win.binding.elem, param: win.binding.param };
}

/** y = data (and the winner table set to −1). */
function copyData(ctx: CudaContext, win: Winner | undefined): CudaKernel {
  const x = ctx.input(0)!;
  const n = numElements(x.shape);
  const bindings = [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', ctx.output(0)!), ...(win ? [win.binding] : [])];
  return perElementKernel(ctx, 'copy', bindings, n, ['y[flat] = x[flat];', ...(win ? [`if (flat < ${u(win.slots)}) win[flat] = -1;`] : [])]);
}

function winnerTable(ctx: CudaContext, slots: number): Winner {
  return { slots, binding: { value: `${ctx.node.name}::scatter_winner`, access: 'read_write', elem: 'i32', param: 'win', scratchBytes: slots * 4 } };
}

/** Whether constant indices send two updates to one target (computed indices may). */
function mayCollide(ctx: CudaContext, targets: (idx: number[]) => (number | undefined)[]): boolean {
  const c = ctx.constant(1);
  if (!c) return true;
  const t = targets(toNumbers(fromConst(c)));
  return t.some((v) => v === undefined) || new Set(t).size !== t.length;
}

const indexOperands = (ctx: CudaContext): CudaBinding[] => [readBinding(ctx, 'ind', ctx.input(1)!), readBinding(ctx, 'upd', ctx.input(2)!)];

defineOnnxCuda(['ScatterND'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const q = ind.shape.length;
  const k = ind.shape[q - 1]!;
  if (k > x.shape.length) return ctx.unsupported(`index depth ${k} exceeds the data's rank ${x.shape.length}`);
  const slice = numElements(x.shape.slice(k));
  const tuples = numElements(ind.shape.slice(0, q - 1));
  const xs = stridesOf(x.shape);
  const reduction = ctx.string('reduction', 'none');
  if (numElements(x.shape) === 0) return [];
  const y = ctx.output(0)!;
  const elem = elemOf(ctx, y);
  /** `off` (a slice's start) and `ok` of tuple `t`. */
  const offset = (t: string) => {
    const lines = ['unsigned off = 0u;', 'bool ok = true;'];
    for (let d = 0; d < k; d++) {
      lines.push('{', ...fixIndex(`ind[${t} * ${u(k)} + ${u(d)}]`, x.shape[d]!, 'flag').map((l) => `  ${l}`), `  ok = ok && j_ok;`, `  off += (unsigned)j * ${u(xs[d]!)};`, '}');
    }
    return lines;
  };
  if (tuples * slice === 0) return [copyData(ctx, undefined)];
  const out = writeBinding(ctx, 'y', y);
  if (reduction !== 'none') {
    const upd = `upd[t * ${u(slice)} + flat]`;
    return [
      copyData(ctx, undefined),
      perElementKernel(ctx, `scatternd_${reduction}`, [...indexOperands(ctx), out], slice, [
        `for (unsigned t = 0u; t < ${u(tuples)}; ++t) {`,
        ...offset('t').map((l) => `  ${l}`),
        '  if (!ok) continue;',
        '  const unsigned at = off + flat;',
        `  y[at] = ${combine(ctx, elem, 'y[at]', upd)};`,
        '}',
      ]),
    ];
  }
  const collide = mayCollide(ctx, (idx) =>
    Array.from({ length: tuples }, (_, t) => {
      let off = 0;
      for (let d = 0; d < k; d++) {
        const dim = x.shape[d]!;
        const j = idx[t * k + d]! < 0 ? idx[t * k + d]! + dim : idx[t * k + d]!;
        if (j < 0 || j >= dim) return undefined;
        off += j * xs[d]!;
      }
      return off;
    }),
  );
  const win = collide ? winnerTable(ctx, numElements(x.shape) / slice) : undefined;
  const kernels = [copyData(ctx, win)];
  if (win) {
    kernels.push(
      perElementKernel(ctx, 'scatternd_claim', [readBinding(ctx, 'ind', ind), bound(win, 'read_write')], tuples, [
        ...offset('flat'),
        `if (ok) atomicMax(&win[off / ${u(slice)}], (int)flat);`,
      ]),
    );
  }
  kernels.push(
    perElementKernel(ctx, 'scatternd', [...indexOperands(ctx), ...(win ? [bound(win, 'read')] : []), out], tuples * slice, [
      `const unsigned t = flat / ${u(slice)};`,
      ...offset('t'),
      `if (ok${win ? ` && win[off / ${u(slice)}] == (int)t` : ''}) y[off + flat % ${u(slice)}] = upd[flat];`,
    ]),
  );
  return kernels;
});

defineOnnxCuda(['ScatterElements', 'Scatter'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const y = ctx.output(0)!;
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  if (ind.shape.length !== r) return ctx.unsupported(`indices of rank ${ind.shape.length} for data of rank ${r}`);
  if (numElements(x.shape) === 0) return [];
  const count = numElements(ind.shape);
  if (count === 0) return [copyData(ctx, undefined)];
  const xs = stridesOf(x.shape);
  const dim = x.shape[axis]!;
  const elem = elemOf(ctx, y);
  const out = writeBinding(ctx, 'y', y);
  /** `o`, the target of the update at indices `idx` reading its index at `src`, and `j_ok`. */
  const target = (idx: readonly string[], src: string) => [
    ...fixIndex(`ind[${src}]`, dim, 'flag'),
    `const unsigned o = ${affine(idx.map((v, d) => (d === axis ? '(unsigned)j' : v)), xs)};`,
  ];
  const reduction = ctx.string('reduction', 'none');
  if (reduction !== 'none') {
    // One thread per line along `axis`: only updates of one line can meet, and it walks them in order.
    const lineShape = ind.shape.map((d, i) => (i === axis ? 1 : d));
    const is = stridesOf(ind.shape);
    const idx = indexNames(r);
    return [
      copyData(ctx, undefined),
      perElementKernel(ctx, `scatterelements_${reduction}`, [...indexOperands(ctx), out], numElements(lineShape), [
        ...decompose('flat', lineShape),
        `(void)i${axis};`,
        `for (unsigned a = 0u; a < ${u(ind.shape[axis]!)}; ++a) {`,
        `  const unsigned src = ${affine(idx.map((v, d) => (d === axis ? 'a' : v)), is)};`,
        ...target(idx, 'src').map((l) => `  ${l}`),
        '  if (!j_ok) continue;',
        `  y[o] = ${combine(ctx, elem, 'y[o]', 'upd[src]')};`,
        '}',
      ]),
    ];
  }
  const collide = mayCollide(ctx, (vals) => {
    const is = stridesOf(ind.shape);
    return vals.map((v, i) => {
      const j = v < 0 ? v + dim : v;
      if (j < 0 || j >= dim) return undefined;
      let off = 0;
      for (let d = 0; d < r; d++) off += (d === axis ? j : Math.floor(i / is[d]!) % ind.shape[d]!) * xs[d]!;
      return off;
    });
  });
  const win = collide ? winnerTable(ctx, numElements(x.shape)) : undefined;
  const idx = indexNames(r);
  const head = [...decompose('flat', ind.shape), `(void)i${axis};`, ...target(idx, 'flat')];
  const kernels = [copyData(ctx, win)];
  if (win) {
    kernels.push(perElementKernel(ctx, 'scatterelements_claim', [readBinding(ctx, 'ind', ind), bound(win, 'read_write')], count, [...head, 'if (j_ok) atomicMax(&win[o], (int)flat);']));
  }
  kernels.push(
    perElementKernel(ctx, 'scatterelements', [...indexOperands(ctx), ...(win ? [bound(win, 'read')] : []), out], count, [
      ...head,
      `if (j_ok${win ? ' && win[o] == (int)flat' : ''}) y[o] = upd[flat];`,
    ]),
  );
  return kernels;
});
