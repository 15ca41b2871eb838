// ScatterND and ScatterElements (and opset 9–10 Scatter): the data is copied to the result, then
// the updates are applied. With reduction 'none' every update element is one thread (duplicate
// indices then race: ONNX leaves them undefined). With add/mul/max/min the updates that can meet
// are applied in index order by one thread — a slice element for ScatterND, a line along `axis`
// for ScatterElements — so the result is deterministic and equals the interpreter's.
import { stridesOf, IndexSpace, numElements, View } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import { normAxis, readVar, writeVar } from './common.ts';

const WG = 64;

function combineOf(ctx: LowerContext, a: string, b: string): string {
  switch (ctx.string('reduction', 'none')) {
    case 'none': return b;
    case 'add': return `(${a} + ${b})`;
    case 'mul': return `(${a} * ${b})`;
    case 'max': return `select(${b}, ${a}, ${a} >= ${b})`;
    case 'min': return `select(${b}, ${a}, ${a} <= ${b})`;
    default: return ctx.unsupported(`reduction '${ctx.string('reduction')}'`);
  }
}

/** y = data, contiguous copy. */
function copyData(ctx: LowerContext): Kernel {
  const x = ctx.input(0)!;
  const n = numElements(x.shape);
  return buildKernel({
    name: ctx.kernelName('copy'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: 'scatter/copy',
    vars: [readVar(ctx, 'x', x), writeVar(ctx, 'y', ctx.output(0)!)],
    uniforms: [{ name: 'n', type: 'u32', value: n }],
    workgroupSize: WG,
    body: `  let i = ${threadIndex(WG)};\n  if (i >= u.n) { return; }\n  y[i] = x[i];`,
    dispatch: elementDispatch(n, WG, ctx.caps),
  });
}

function applyKernel(ctx: LowerContext, what: string, space: IndexSpace, threads: number, view: View | undefined, body: string[]): Kernel {
  return buildKernel({
    name: ctx.kernelName(what),
    node: ctx.node.name,
    op: ctx.node.op,
    key: `scatter/${what}`,
    vars: [readVar(ctx, 'ind', ctx.input(1)!), readVar(ctx, 'upd', ctx.input(2)!), writeVar(ctx, 'y', ctx.output(0)!)],
    uniforms: [{ name: 'n', type: 'u32', value: threads }, ...space.uniforms, ...(view?.uniforms ?? [])],
    workgroupSize: WG,
    helpers: [space.helper, ...(view ? [view.helper] : [])],
    body: [`  let flat = ${threadIndex(WG)};`, '  if (flat >= u.n) { return; }', '  let idx = o_indices(flat);', ...body.map((l) => `  ${l}`)].join('\n'),
    dispatch: elementDispatch(threads, WG, ctx.caps),
  });
}

const fix = (v: string, dim: number | string) => `{ let raw = ${v}; j = select(raw, raw + ${dim}, raw < 0); }`;

defineOnnxWgsl(['ScatterND'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const q = ind.shape.length;
  const k = ind.shape[q - 1]!;
  const slice = numElements(x.shape.slice(k));
  const tuples = numElements(ind.shape.slice(0, q - 1));
  const xs = stridesOf(x.shape);
  const none = ctx.string('reduction', 'none') === 'none';
  const offset = (t: string) => {
    const lines = ['var off = 0u;', 'var j = 0i;'];
    for (let d = 0; d < k; d++) lines.push(fix(`i32(ind[${t} * ${k}u + ${d}u])`, `${x.shape[d]}i`), `off += u32(j) * ${xs[d]}u;`);
    return lines;
  };
  if (numElements(x.shape) === 0) return [];
  const kernels = [copyData(ctx)];
  if (tuples * slice === 0) return kernels;
  if (none) {
    const space = new IndexSpace('o', [tuples, slice]);
    kernels.push(applyKernel(ctx, `scatternd_k${k}`, space, tuples * slice, undefined, [...offset('idx[0]'), 'y[off + idx[1]] = upd[flat];']));
  } else {
    const space = new IndexSpace('o', [slice]);
    kernels.push(
      applyKernel(ctx, `scatternd_${ctx.string('reduction')}_k${k}`, space, slice, undefined, [
        `for (var t = 0u; t < ${tuples}u; t++) {`,
        ...offset('t').map((l) => `  ${l}`),
        `  let at = off + flat;`,
        `  y[at] = ${combineOf(ctx, 'y[at]', `upd[t * ${slice}u + flat]`)};`,
        '}',
      ]),
    );
  }
  return kernels;
});

defineOnnxWgsl(['ScatterElements', 'Scatter'], (ctx) => {
  const x = ctx.input(0)!;
  const ind = ctx.input(1)!;
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  if (numElements(x.shape) === 0) return [];
  const kernels = [copyData(ctx)];
  const count = numElements(ind.shape);
  if (count === 0) return kernels;
  const view = new View('yv', stridesOf(x.shape));
  const dimU = `${x.shape[axis]}i`;
  if (ctx.string('reduction', 'none') === 'none') {
    const space = new IndexSpace('o', ind.shape);
    kernels.push(
      applyKernel(ctx, 'scatterelements', space, count, view, [
        'var j = 0i;',
        fix('i32(ind[flat])', dimU),
        'var at = idx;',
        `at[${axis}] = u32(j);`,
        `y[${view.at('at')}] = upd[flat];`,
      ]),
    );
  } else {
    // One thread per line along `axis`, walking it in order.
    const lineShape = ind.shape.map((d, i) => (i === axis ? 1 : d));
    const space = new IndexSpace('o', lineShape);
    const is = stridesOf(ind.shape);
    const base = ind.shape.map((_, d) => `idx[${d}] * ${is[d]}u`).join(' + ');
    kernels.push(
      applyKernel(ctx, `scatterelements_${ctx.string('reduction')}`, space, numElements(lineShape), view, [
        `for (var a = 0u; a < ${ind.shape[axis]}u; a++) {`,
        `  let src = ${base} + a * ${is[axis]}u;`,
        '  var j = 0i;',
        `  ${fix('i32(ind[src])', dimU)}`,
        '  var at = idx;',
        `  at[${axis}] = u32(j);`,
        `  let o = ${view.at('at')};`,
        `  y[o] = ${combineOf(ctx, 'y[o]', 'upd[src]')};`,
        '}',
      ]),
    );
  }
  return kernels;
});
