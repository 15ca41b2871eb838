// CumSum and Einsum: one thread per result line (CumSum, a running sum along the axis) or per
// result element (Einsum, a loop over the summed labels, operands moved by the strides of
// ir/interp/ops/einsum.ts's plan). Floats sum in f32, integers in i32/u32 (wrapping as the
// 32-bit storage does); sizes are baked in.
import { isFloat } from '../../../ir/dtype.ts';
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { planEinsum } from '../../../ir/interp/ops/einsum.ts';
import { numElements } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { perElementKernel } from '../template.ts';
import { normAxis, readVar, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { u } from './kernel-util.ts';

/** A stored element as its compute type, and back. */
const load = (v: string, elem: string, ct: string) => (elem === ct ? v : `${ct}(${v})`);
const store = (v: string, elem: string, ct: string) => (elem === ct ? v : `${elem}(${v})`);

defineOnnxWgsl(['CumSum'], (ctx): Kernel[] => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  if (x.dtype === 'bool') return ctx.unsupported('CumSum is not defined on bool');
  const c = ctx.constant(1);
  if (!c) return ctx.unsupported("CumSum's axis (operand 1) must be a constant for the WGSL backend");
  const axis = normAxis(toNumbers(fromConst(c))[0]!, x.shape.length);
  const n = x.shape[axis]!;
  const inner = numElements(x.shape.slice(axis + 1));
  const lines = numElements(x.shape) / Math.max(1, n);
  const exclusive = ctx.int('exclusive', 0) !== 0;
  const reverse = ctx.int('reverse', 0) !== 0;
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  const ct = ctypeOf(x.dtype);
  const at = reverse ? `base + ${u(n - 1)} * ${u(inner)} - s * ${u(inner)}` : `base + s * ${u(inner)}`;
  if (n === 0) return [];
  return perElementKernel(ctx, 'cumsum', `${ct}${exclusive}${reverse}`, lines, [xv, yv], [
    `let base = (flat / ${u(inner)}) * ${u(n * inner)} + flat % ${u(inner)};`,
    `var acc = ${ct}(0);`,
    `for (var s = 0u; s < ${u(n)}; s++) {`,
    `  let j = ${at};`,
    ...(exclusive ? [`  y[j] = ${store('acc', yv.binding.elem, ct)};`, `  acc += ${load('x[j]', xv.binding.elem, ct)};`] : [`  acc += ${load('x[j]', xv.binding.elem, ct)};`, `  y[j] = ${store('acc', yv.binding.elem, ct)};`]),
    '}',
  ]);
});

defineOnnxWgsl(['Einsum'], (ctx): Kernel[] => {
  const xs = ctx.node.inputs.map((_, i) => ctx.input(i)!);
  const y = ctx.output(0)!;
  if (xs.length > 6) return ctx.unsupported(`Einsum of ${xs.length} operands (the WGSL kernel binds at most 6)`);
  const plan = planEinsum(ctx.string('equation'), xs.map((x) => x.shape), (m) => ctx.unsupported(m));
  const ct = ctypeOf(y.dtype);
  if (isFloat(y.dtype) !== (ct === 'f32')) return ctx.unsupported(`Einsum on ${y.dtype}`);
  const vars = xs.map((x, i) => readVar(ctx, `x${i}`, x));
  const yv = writeVar(ctx, 'y', y);
  const nOut = plan.outShape.length;
  const sumDims = plan.dims.slice(nOut);
  const nSum = numElements(sumDims);
  // Offsets of the result's labels (decoded from `flat`), then the summed labels (decoded from `s`).
  const decode = (idx: string, dims: readonly number[], first: number) => {
    const lines: string[] = [];
    let inner = 1;
    for (let d = dims.length - 1; d >= 0; d--) {
      const label = `${idx}_${first + d}`;
      lines.push(`let ${label} = (${idx} / ${u(inner)}) % ${u(dims[d]!)};`);
      inner *= dims[d]!;
    }
    return lines;
  };
  const offset = (i: number, from: number, to: number, idx: string) => {
    const terms = plan.strides[i]!.slice(from, to).map((s, k) => (s === 0 ? '' : `${idx}_${from + k} * ${u(s)}`)).filter(Boolean);
    return terms.length ? terms.join(' + ') : '0u';
  };
  const body = [
    ...decode('flat', plan.outShape, 0),
    ...xs.map((_, i) => `let base${i} = ${offset(i, 0, nOut, 'flat')};`),
    `var acc = ${ct}(0);`,
    `for (var s = 0u; s < ${u(nSum)}; s++) {`,
    ...decode('s', sumDims, nOut).map((l) => `  ${l}`),
    `  acc += ${xs.map((_, i) => load(`x${i}[base${i} + ${offset(i, nOut, plan.dims.length, 's')}]`, vars[i]!.binding.elem, ct)).join(' * ')};`,
    '}',
    `y[flat] = ${store('acc', yv.binding.elem, ct)};`,
  ];
  return perElementKernel(ctx, 'einsum', ct, numElements(plan.outShape), [...vars, yv], body);
});
