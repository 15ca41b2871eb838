// MaxPool (with the optional Indices result), AveragePool (count_include_pad), LpPool and the
// global pools (GlobalAveragePool, GlobalMaxPool, GlobalLpPool).
// Windowed pools: one thread per output element walking its window (the window is small and its
// bounds are baked in). Global pools: one block per (n, c) plane, each thread striding over the
// plane, then a warp-shuffle reduction and one across the block's warps.
import { poolWindowPlan } from '../../shared/pool-window.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { blocksFor, C_TYPE, cudaKernel } from '../kernel.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, lit, loadAs, numElements, storeAs } from './gemm-tile.ts';

type Kind = 'max' | 'avg' | 'lp';

/** Float storage (and, for MaxPool, 8-bit integers): computed in float, f64 in double. */
function poolElem(ctx: CudaContext, kind: Kind, dtype: string, e: CudaElem): 'float' | 'double' {
  if (e === 'f64') return 'double';
  if (e === 'f32' || e === 'f16' || e === 'bf16') return 'float';
  if (kind === 'max' && (e === 'i8' || e === 'u8')) return 'float'; // exact in float
  return ctx.unsupported(`${ctx.node.op} of ${dtype} tensors`);
}

function windowPool(ctx: CudaContext, kind: Kind): CudaKernel[] {
  const { x, y, idx, inSp, r, kernel, win, includePad, colMajor, total, P, inPlane, oStr, iStr, cStr } = poolWindowPlan(ctx, kind === 'max');
  const pw = ctx.int('p', 2);
  if (total === 0) return [];
  const e = elemOf(ctx, x);
  const acc = poolElem(ctx, kind, x.dtype, e);
  const bindings: CudaBinding[] = [
    { value: x.name, access: 'read', elem: e, param: 'x' },
    { value: y.name, access: 'read_write', elem: elemOf(ctx, y), param: 'y' },
    ...(idx ? [{ value: idx.name, access: 'read_write' as const, elem: elemOf(ctx, idx), param: 'idx' }] : []),
  ];
  // Nested loops over the kernel dims; in<d> is whether coordinate d is inside the input, pad<d>
  // whether it is inside input + padding (count_include_pad's extent).
  const open: string[] = [];
  for (let d = 0; d < r; d++) {
    open.push(
      `for (int k${d} = 0; k${d} < ${kernel[d]}; k${d}++) {`,
      `  const int i${d} = o${d} * ${win.strides[d]} - ${win.padBegin[d]} + k${d} * ${win.dilations[d]};`,
      `  const bool in${d} = i${d} >= 0 && i${d} < ${inSp[d]};`,
      `  const bool pad${d} = i${d} >= -${win.padBegin[d]} && i${d} < ${inSp[d]! + win.padEnd[d]!};`,
      `  (void)pad${d};`,
    );
  }
  const inside = inSp.map((_, d) => `in${d}`).join(' && ') || 'true';
  const inPad = inSp.map((_, d) => `pad${d}`).join(' && ') || 'true';
  const off = inSp.map((_, d) => `(unsigned)i${d} * ${iStr[d]}u`).join(' + ') || '0u';
  const coff = inSp.map((_, d) => `(unsigned)i${d} * ${cStr[d]}u`).join(' + ') || '0u';
  const v = loadAs(e, acc, `x[base + ${off}]`);
  const pow = acc === 'double' ? 'pow' : 'powf';
  const fabs = acc === 'double' ? 'fabs' : 'fabsf';
  const step =
    kind === 'max'
      ? `if (${inside}) {
      const ${acc} v = ${v};
      if (v > best || at < 0) { best = v; at = (int)(${colMajor ? coff : off}); }
    }`
      : kind === 'avg'
        ? `if (${inside}) sum += ${v};
    if (${includePad ? inPad : inside}) count += 1;`
        : `if (${inside}) sum += ${pw === 1 ? `${fabs}(${v})` : pw === 2 ? `(${v}) * (${v})` : `${pow}(${fabs}(${v}), ${lit(acc, pw)})`};`;
  const yElem = bindings[1]!.elem;
  const result =
    kind === 'max'
      ? `y[t] = ${storeAs(yElem, 'best')};${idx ? `\n  idx[t] = (${C_TYPE[bindings[2]!.elem]})((long long)base + at);` : ''}`
      : kind === 'avg'
        ? `y[t] = ${storeAs(yElem, 'sum / count')};`
        : `y[t] = ${storeAs(yElem, pw === 1 ? 'sum' : pw === 2 ? (acc === 'double' ? 'sqrt(sum)' : 'sqrtf(sum)') : `${pow}(sum, ${lit(acc, 1 / pw)})`)};`;
  const T = 128;
  const body = `  const unsigned t = blockIdx.x * ${T}u + threadIdx.x;
  if (t >= ${total}u) return;
  const unsigned nc = t / ${P}u;
  const unsigned p = t % ${P}u;
  const unsigned base = nc * ${inPlane}u;
  ${win.out.map((o, d) => `const int o${d} = (int)((p / ${oStr[d]}u) % ${o}u);`).join('\n  ')}
  ${kind === 'max' ? `${acc} best = -(${acc})INFINITY;\n  int at = -1;` : `${acc} sum = 0;${kind === 'avg' ? `\n  ${acc} count = 0;` : ''}`}
  ${open.join('\n  ')}
    ${step}
  ${'}'.repeat(r)}
  ${result}`;
  return [cudaKernel({ name: ctx.kernelName(`${kind}pool`), node: ctx.node.name, op: ctx.node.op, bindings, body, grid: blocksFor(total, T), block: T })];
}

defineOnnxCuda(['MaxPool'], (ctx) => windowPool(ctx, 'max'));
defineOnnxCuda(['AveragePool'], (ctx) => windowPool(ctx, 'avg'));
defineOnnxCuda(['LpPool'], (ctx) => windowPool(ctx, 'lp'));

function globalPool(ctx: CudaContext, kind: Kind): CudaKernel[] {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const [N, C] = x.shape as [number, number];
  const plane = numElements(x.shape.slice(2));
  if (N * C === 0) return [];
  const e = elemOf(ctx, x);
  const acc = poolElem(ctx, 'avg', x.dtype, e);
  const pw = ctx.int('p', 2);
  const bindings: CudaBinding[] = [
    { value: x.name, access: 'read', elem: e, param: 'x' },
    { value: y.name, access: 'read_write', elem: elemOf(ctx, y), param: 'y' },
  ];
  const T = 256;
  const lowest = `-(${acc})INFINITY`;
  const combine = (a: string, b: string) => (kind === 'max' ? `(${b} > ${a} ? ${b} : ${a})` : `${a} + ${b}`);
  const v = loadAs(e, acc, 'x[base + i]');
  const term = kind === 'lp' ? (pw === 2 ? `(${v}) * (${v})` : `${acc === 'double' ? 'pow(fabs' : 'powf(fabsf'}(${v}), ${lit(acc, pw)})`) : v;
  const finish =
    kind === 'avg' ? `a / ${lit(acc, plane)}` : kind === 'max' ? 'a' : pw === 2 ? (acc === 'double' ? 'sqrt(a)' : 'sqrtf(a)') : `${acc === 'double' ? 'pow' : 'powf'}(a, ${lit(acc, 1 / pw)})`;
  // NaN handling of max: `v > a ? v : a` as the interpreter (a NaN is kept only if it comes first
  // within a thread's stride; finite inputs agree exactly).
  const body = `  __shared__ ${acc} part[${T / 32}];
  const unsigned tid = threadIdx.x;
  const unsigned nc = blockIdx.y * 65535u + blockIdx.x;
  const unsigned base = nc * ${plane}u;
  const bool live = nc < ${N * C}u;
  ${acc} a = ${kind === 'max' ? lowest : '0'};
  if (live) {
    for (unsigned i = tid; i < ${plane}u; i += ${T}u) {
      const ${acc} v = ${term};
      a = ${combine('a', 'v')};
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const ${acc} w = __shfl_xor_sync(0xffffffffu, a, o);
    a = ${combine('a', 'w')};
  }
  if (tid % 32u == 0u) part[tid / 32u] = a;
  __syncthreads();
  if (tid == 0u && live) {
    a = part[0];
    for (int w = 1; w < ${T / 32}; w++) a = ${combine('a', 'part[w]')};
    y[nc] = ${storeAs(bindings[1]!.elem, finish)};
  }`;
  const blocks = N * C;
  const grid: [number, number, number] = blocks <= 65535 ? [blocks, 1, 1] : [65535, Math.ceil(blocks / 65535), 1];
  return [cudaKernel({ name: ctx.kernelName(`global_${kind}pool`), node: ctx.node.name, op: ctx.node.op, bindings, body, grid, block: T })];
}

defineOnnxCuda(['GlobalMaxPool'], (ctx) => globalPool(ctx, 'max'));
defineOnnxCuda(['GlobalAveragePool'], (ctx) => globalPool(ctx, 'avg'));
defineOnnxCuda(['GlobalLpPool'], (ctx) => globalPool(ctx, 'lp'));
