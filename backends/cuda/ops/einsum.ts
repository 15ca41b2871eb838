// Einsum (any equation ir/interp/ops/einsum.ts's planEinsum accepts: diagonals, "...",
// implicit mode): one thread per result element, nested loops over the summed labels, each
// operand's offset the sum of its labels' strides from the plan. Floats sum in float (f64 in
// double); integers in unsigned arithmetic as wide as the storage, which wraps exactly as the
// interpreter's typed-array accumulator does (two's complement), then are cut to the dtype.
import { planEinsum } from '../../../ir/interp/ops/einsum.ts';
import type { CudaElem } from '../kernel.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { affine, decompose, elemOf, indexNames, load, numElements, perElementKernel, readBinding, store, u, writeBinding } from './index-util.ts';

/** The type products and sums run in. */
function accOf(e: CudaElem): string | undefined {
  switch (e) {
    case 'f32': case 'f16': case 'bf16': return 'float';
    case 'f64': return 'double';
    case 'i8': case 'u8': case 'i16': case 'u16': case 'i32': case 'u32': return 'unsigned';
    case 'i64': case 'u64': return 'unsigned long long';
    default: return undefined;
  }
}

defineOnnxCuda(['Einsum'], (ctx) => {
  const xs = ctx.node.inputs.map((_, i) => ctx.input(i)!);
  const y = ctx.output(0)!;
  const plan = planEinsum(ctx.string('equation'), xs.map((x) => x.shape), (m) => ctx.unsupported(m));
  const yElem = elemOf(ctx, y);
  const acc = accOf(yElem);
  if (!acc) return ctx.unsupported(`Einsum on ${y.dtype}`);
  if (xs.some((x) => x.dtype !== y.dtype)) return ctx.unsupported('Einsum operands of different dtypes');
  const total = numElements(plan.outShape);
  if (total === 0) return [];
  const nOut = plan.outShape.length;
  const sumDims = plan.dims.slice(nOut);
  const outIdx = indexNames(nOut, 'i');
  const sumIdx = indexNames(sumDims.length, 'j');
  // Result labels no operand moves along (size 1) get no variable.
  const used = outIdx.map((_, d) => plan.strides.some((s) => s[d] !== 0));
  const bases = xs.map((_, i) => `const unsigned base${i} = ${affine(outIdx, plan.strides[i]!.slice(0, nOut))};`);
  const term = (i: number) => {
    const e = elemOf(ctx, xs[i]!);
    const v = load(`x${i}[base${i} + ${affine(sumIdx, plan.strides[i]!.slice(nOut))}]`, e);
    return acc === 'float' || acc === 'double' ? v : `(${acc})${v}`;
  };
  const open = sumDims.map((n, d) => `${'  '.repeat(d)}for (unsigned ${sumIdx[d]} = 0u; ${sumIdx[d]} < ${u(n)}; ++${sumIdx[d]}) {`);
  const close = sumDims.map((_, d) => `${'  '.repeat(sumDims.length - 1 - d)}}`);
  const ind = '  '.repeat(sumDims.length);
  const body = [
    ...decompose('flat', plan.outShape, 'i', used),
    ...bases,
    `${acc} acc = (${acc})0;`,
    ...open,
    `${ind}acc += ${xs.map((_, i) => term(i)).join(' * ')};`,
    ...close,
    `y[flat] = ${store('acc', yElem)};`,
  ];
  return [perElementKernel(ctx, 'einsum', [...xs.map((x, i) => readBinding(ctx, `x${i}`, x)), writeBinding(ctx, 'y', y)], total, body)];
});
