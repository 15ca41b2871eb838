// Quantization: QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked),
// DynamicQuantizeLinear (one block finds the range and writes the scale and zero point, then one
// thread per element quantizes), and the integer and QLinear forms of MatMul and Conv (one
// thread per output element, summing exactly in 64-bit integers).
//
// The interpreter (ir/interp/ops/quant.ts) is the oracle, and it computes in f64: x / s is
// divided in double and rounded once to f32, rounded half to even (rint), offset by the zero
// point and saturated; a requantizing op computes fl32(acc · (sa · sb) / sy) in double. CUDA has
// IEEE double with correctly rounded division, so the kernels do exactly those steps (no error-free
// f32 tricks as in the WGSL backend). fp8 and 4-bit types have no CUDA storage element here
// (backends/cuda/kernel.ts cudaElem), so nodes with them are refused.
import type { DType } from '../../../ir/dtype.ts';
import { checkIntBias, dynamicQuantOperands, intMatmulShapes, paramLayout, qlinearMatmulScales, QUANT_RANGE, scaleIsScalar, zeroPointLayout } from '../../shared/quant-params.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { C_TYPE, cudaElem, cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { affine, broadcastStrides, decompose, indexNames, numElements, perElementKernel, stridesOf, u } from './index-util.ts';
import { convGeometry } from '../../shared/conv-plan.ts';

/** The storage element of a quantized (integer) operand or result; fp8 / 4-bit are refused. */
function intElem(ctx: CudaContext, t: StaticTensor, what: string): CudaElem {
  if (!cudaElem(t.dtype)) {
    return ctx.unsupported(`${what} is ${t.dtype}: the CUDA backend has no storage element for fp8 or 4-bit types (backends/cuda/kernel.ts cudaElem)`);
  }
  if (!QUANT_RANGE[t.dtype]) return ctx.unsupported(`${what} is ${t.dtype}; the CUDA quantization kernels take int8, uint8, int16, uint16 and int32`);
  return t.dtype as CudaElem;
}

/** An 8/16-bit integer data operand of the integer matmul / conv (its products are exact in 64 bits). */
function dataElem(ctx: CudaContext, t: StaticTensor, what: string): CudaElem {
  const e = intElem(ctx, t, what);
  if (e === 'i32') return ctx.unsupported(`${what} is int32; the integer matmul/conv kernels take 8- and 16-bit data`);
  return e;
}

/** The storage element of a real operand (data, scale): f32, f16 or bf16. */
function realElem(ctx: CudaContext, t: StaticTensor, what: string): CudaElem {
  if (t.dtype !== 'f32' && t.dtype !== 'f16' && t.dtype !== 'bf16') return ctx.unsupported(`${what} is ${t.dtype}; the kernel takes f32, f16 or bf16`);
  return t.dtype;
}

const bind = (value: string, param: string, elem: CudaElem, write = false): CudaBinding => ({ value, access: write ? 'read_write' : 'read', elem, param });

/** A stored element as double (exact for every element type here). */
function asDouble(v: string, e: CudaElem): string {
  if (e === 'f16') return `(double)__half2float(${v})`;
  if (e === 'bf16') return `(double)__bfloat162float(${v})`;
  return `(double)${v}`;
}

const dlit = (n: number) => `${n}.0`;

/**
 * `__device__ <T> lathe_quantize_<dtype>(double v, double z)`: v (already fl32(x / s)) rounded
 * half to even, plus z, saturated to the dtype's range; NaN gives 0 (as the interpreter's typed
 * array store does).
 */
function quantizeHelper(dtype: DType): { name: string; text: string } {
  const [lo, hi] = QUANT_RANGE[dtype]!;
  const c = C_TYPE[dtype as CudaElem];
  const name = `lathe_quantize_${dtype}`;
  return {
    name,
    text: `__device__ __forceinline__ ${c} ${name}(double v, double z) {
  if (v != v) return (${c})0;
  const double q = rint(v) + z;
  return (${c})(long long)(q < ${dlit(lo)} ? ${dlit(lo)} : (q > ${dlit(hi)} ? ${dlit(hi)} : q));
}`,
  };
}

/**
 * Offset into a scale / zero-point operand of shape `p` for flat element `i` of data of shape
 * `x`: per tensor, per axis (1-D along `axis`) or blocked (p has x's rank; dim `axis` counts
 * blocks of `block` elements), as ir/interp/ops/quant-util.ts paramIndex lines them up.
 */
function paramOffset(ctx: CudaContext, i: string, x: readonly number[], p: readonly number[], axis: number, block: number, what: string): string {
  const l = paramLayout(ctx, x, p, axis, block, what);
  if (l.kind === 'tensor') return '0u';
  const along = l.inner === 1 ? i : `(${i} / ${u(l.inner)})`;
  if (l.kind === 'axis') return `(${along} % ${u(l.D)})`;
  const outer = `(${i} / ${u(l.D * l.inner)})`;
  return `((${outer} * ${u(l.blocks)} + (${along} % ${u(l.D)}) / ${u(l.block)}) * ${u(l.inner)}${l.inner === 1 ? '' : ` + ${i} % ${u(l.inner)}`})`;
}

// QuantizeLinear: y = saturate(round_half_even(fl32(x / s)) + zp), the zero point's dtype (else
// output_dtype, else u8) giving the range. `saturate` concerns fp8 targets only.
defineOnnxCuda(['QuantizeLinear'], (ctx) => {
  const x = ctx.input(0)!;
  const s = ctx.input(1)!;
  const zp = ctx.input(2);
  const y = ctx.output(0)!;
  const yElem = intElem(ctx, y, 'the quantized result');
  if (zp) intElem(ctx, zp, 'the zero point');
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  // x is a float, or i32 (opsets 10–12): exact in double either way.
  const xElem = x.dtype === 'i32' ? 'i32' : realElem(ctx, x, 'x');
  const sElem = realElem(ctx, s, 'the scale');
  const total = numElements(x.shape);
  if (total === 0) return [];
  const so = paramOffset(ctx, 'flat', x.shape, s.shape, axis, block, 'scale');
  const zo = zp ? paramOffset(ctx, 'flat', x.shape, zp.shape, axis, block, 'zero point') : '';
  const q = quantizeHelper(y.dtype);
  const bindings = [bind(x.name, 'x', xElem), bind(s.name, 'sc', sElem), ...(zp ? [bind(zp.name, 'zp', zp.dtype as CudaElem)] : []), bind(y.name, 'y', yElem, true)];
  return [
    perElementKernel(ctx, 'quantize', bindings, total, [
      `const double v = (double)(float)(${asDouble('x[flat]', xElem)} / ${asDouble(`sc[${so}]`, sElem)});`,
      `y[flat] = ${q.name}(v, ${zp ? `(double)zp[${zo}]` : '0.0'});`,
    ], [q.text]),
  ];
});

// DequantizeLinear: y = (x − zp) · s in double, rounded to f32 (then to f16/bf16 for such a
// scale, as the interpreter stores those in f32 first).
defineOnnxCuda(['DequantizeLinear'], (ctx) => {
  const x = ctx.input(0)!;
  const s = ctx.input(1)!;
  const zp = ctx.input(2);
  const y = ctx.output(0)!;
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  const xElem = intElem(ctx, x, 'x');
  const sElem = realElem(ctx, s, 'the scale');
  if (zp) intElem(ctx, zp, 'the zero point');
  const yElem = realElem(ctx, y, 'the result');
  const total = numElements(x.shape);
  if (total === 0) return [];
  const so = paramOffset(ctx, 'flat', x.shape, s.shape, axis, block, 'scale');
  const zo = zp ? paramOffset(ctx, 'flat', x.shape, zp.shape, axis, block, 'zero point') : '';
  const v = `(float)(((double)x[flat]${zp ? ` - (double)zp[${zo}]` : ''}) * ${asDouble(`sc[${so}]`, sElem)})`;
  const out = yElem === 'f16' ? `__float2half_rn(${v})` : yElem === 'bf16' ? `__float2bfloat16_rn(${v})` : v;
  const bindings = [bind(x.name, 'x', xElem), bind(s.name, 'sc', sElem), ...(zp ? [bind(zp.name, 'zp', zp.dtype as CudaElem)] : []), bind(y.name, 'y', yElem, true)];
  return [perElementKernel(ctx, 'dequantize', bindings, total, [`y[flat] = ${out};`])];
});

const RANGE_THREADS = 256;

// DynamicQuantizeLinear: one block finds lo = min(0, x) and hi = max(0, x) (NaNs skipped, as
// the interpreter's comparisons skip them) and writes y_scale = fl32((hi − lo) / 255) and
// y_zero_point = q(−fl32(lo / y_scale)); then one thread per element quantizes x to u8 with
// them (all zeros when the scale is 0).
defineOnnxCuda(['DynamicQuantizeLinear'], (ctx) => {
  const { x, y, ys, yz } = dynamicQuantOperands(ctx);
  const xElem = realElem(ctx, x, 'x');
  const total = numElements(x.shape);
  // The scale and zero point are needed by the quantize kernel even when the graph drops them.
  const sName = ys?.name ?? `${ctx.node.name}::scale`;
  const zName = yz?.name ?? `${ctx.node.name}::zero_point`;
  const scratch = (name: string, param: string, elem: CudaElem, write: boolean): CudaBinding => ({
    ...bind(name, param, elem, write),
    // Declared by the first kernel only; the second binds it by name.
    ...(write && name.startsWith(`${ctx.node.name}::`) ? { scratchBytes: 4 } : {}),
  });
  const q = quantizeHelper('u8');
  const T = RANGE_THREADS;
  const body = [
    '  double lo = 0.0, hi = 0.0;',
    ...(total > 0
      ? [
          `  for (unsigned i = threadIdx.x; i < ${u(total)}; i += ${u(T)}) {`,
          `    const double v = ${asDouble('x[i]', xElem)};`,
          '    if (v < lo) lo = v;',
          '    if (v > hi) hi = v;',
          '  }',
        ]
      : []),
    `  __shared__ double sh_lo[${T}], sh_hi[${T}];`,
    '  sh_lo[threadIdx.x] = lo;',
    '  sh_hi[threadIdx.x] = hi;',
    '  __syncthreads();',
    `  for (unsigned s = ${u(T / 2)}; s > 0u; s >>= 1) {`,
    '    if (threadIdx.x < s) {',
    '      if (sh_lo[threadIdx.x + s] < sh_lo[threadIdx.x]) sh_lo[threadIdx.x] = sh_lo[threadIdx.x + s];',
    '      if (sh_hi[threadIdx.x + s] > sh_hi[threadIdx.x]) sh_hi[threadIdx.x] = sh_hi[threadIdx.x + s];',
    '    }',
    '    __syncthreads();',
    '  }',
    '  if (threadIdx.x == 0u) {',
    '    const float scale = (float)((sh_hi[0] - sh_lo[0]) / 255.0);',
    '    ys[0] = scale;',
    `    zs[0] = scale == 0.0f ? (uint8_t)0 : ${q.name}((double)(0.0f - (float)(sh_lo[0] / (double)scale)), 0.0);`,
    '  }',
  ];
  const reduce = cudaKernel({
    name: ctx.kernelName('range'),
    node: ctx.node.name,
    op: ctx.node.op,
    bindings: [...(total > 0 ? [bind(x.name, 'x', xElem)] : []), scratch(sName, 'ys', 'f32', true), scratch(zName, 'zs', 'u8', true)],
    helpers: [q.text],
    body: body.join('\n'),
    grid: 1,
    block: T,
  });
  if (total === 0) return [reduce];
  const bindings = [bind(x.name, 'x', xElem), scratch(sName, 'ys', 'f32', false), scratch(zName, 'zs', 'u8', false), bind(y.name, 'y', 'u8', true)];
  return [
    reduce,
    perElementKernel(ctx, 'quantize', bindings, total, [
      'const float scale = ys[0];',
      `y[flat] = scale == 0.0f ? (uint8_t)0 : ${q.name}((double)(float)(${asDouble('x[flat]', xElem)} / (double)scale), (double)zs[0]);`,
    ], [q.text]),
  ];
});

/**
 * How a zero point lines up with its data (ir/interp/ops/quant-util.ts minusZeroPoint): one
 * value; a 1-D vector along dim `vecDim`; or any shape that broadcasts to the data. `coords` are
 * the data element's indices (C expressions, unsigned). Returns the offset into the zero point.
 */
function zpOffset(ctx: CudaContext, data: readonly number[], zp: readonly number[], vecDim: number, coords: readonly string[], what: string): string {
  const l = zeroPointLayout(ctx, data, zp, vecDim, what);
  if (l.kind === 'one') return '0u';
  if (l.kind === 'vector') return coords[l.d]!;
  return `(${affine(coords, broadcastStrides(zp, data))})`;
}

/** A zero point read as long long (0 where there is none), binding it. */
function zpRead(ctx: CudaContext, binds: CudaBinding[], param: string, t: StaticTensor | undefined, data: readonly number[], vecDim: number, coords: readonly string[], what: string): string {
  if (!t) return '0ll';
  binds.push(bind(t.name, param, dataElem(ctx, t, what)));
  return `(long long)${param}[${zpOffset(ctx, data, t.shape, vecDim, coords, what)}]`;
}

/** One value of a scale operand, or 1-D of `n` indexed by `idx`, as double (binding it). */
function scaleRead(ctx: CudaContext, binds: CudaBinding[], param: string, t: StaticTensor, idx: string, n: number, what: string): string {
  const e = realElem(ctx, t, what);
  binds.push(bind(t.name, param, e));
  return asDouble(`${param}[${scaleIsScalar(ctx, t, n, what) ? '0' : idx}]`, e);
}

/** What the integer kernels do with the exact sum `acc`: store it as i32, or requantize it. */
type Epilogue = (binds: CudaBinding[], y: StaticTensor) => { lines: string[]; helpers: string[] };

/** MatMulInteger / ConvInteger: the sum modulo 2^32, as the interpreter's Int32Array stores it. */
const storeI32: Epilogue = () => ({ lines: ['y[flat] = (int32_t)(uint32_t)(unsigned long long)acc;'], helpers: [] });

/** QLinear*: y = q(fl32(acc · (sa · sb) / sy)) + zy, saturated to y's dtype. */
function requantize(ctx: CudaContext, aScale: StaticTensor, bScale: StaticTensor, yScale: StaticTensor, yZp: StaticTensor | undefined, aIdx: { idx: string; n: number } | undefined, bIdx: { idx: string; n: number }): Epilogue {
  return (binds, y) => {
    intElem(ctx, y, 'y');
    const sa = aIdx ? scaleRead(ctx, binds, 'sa', aScale, aIdx.idx, aIdx.n, 'the first scale') : scaleRead(ctx, binds, 'sa', aScale, '0u', 1, 'the first scale');
    const sb = scaleRead(ctx, binds, 'sb', bScale, bIdx.idx, bIdx.n, 'the second scale');
    // y's scale and zero point: their first element, as the interpreter reads them.
    const se = realElem(ctx, yScale, 'y_scale');
    binds.push(bind(yScale.name, 'sy', se));
    if (yZp) binds.push(bind(yZp.name, 'zy', intElem(ctx, yZp, 'y_zero_point')));
    const q = quantizeHelper(y.dtype);
    return {
      lines: [
        `const double v = (double)(float)(((double)acc * (${sa} * ${sb})) / ${asDouble('sy[0]', se)});`,
        `y[flat] = ${q.name}(v, ${yZp ? '(double)zy[0]' : '0.0'});`,
      ],
      helpers: [q.text],
    };
  };
}

/**
 * Integer matmul with numpy broadcasting over the batch dims and 1-D promotion: acc = Σ_k (A − za)(B − zb)
 * exactly in 64 bits (A's zero point per row, B's per column, or broadcast), then `out`.
 */
function intMatmul(ctx: CudaContext, what: string, ai: number, azi: number, bi: number, bzi: number, out: Epilogue): CudaKernel[] {
  const a = ctx.input(ai)!;
  const b = ctx.input(bi)!;
  const y = ctx.output(0)!;
  const { aS, bS, M, K, N } = intMatmulShapes(a, b);
  if (bS[bS.length - 2] !== K) return ctx.unsupported(`MatMul of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const binds: CudaBinding[] = [bind(a.name, 'a', dataElem(ctx, a, 'A')), bind(b.name, 'b', dataElem(ctx, b, 'B'))];
  const total = numElements(y.shape);
  const nb = Math.max(aS.length, bS.length) - 2;
  const batch = Array.from({ length: nb }, (_, j) => {
    const da = aS[aS.length - 2 - nb + j] ?? 1;
    const db = bS[bS.length - 2 - nb + j] ?? 1;
    return da === 1 ? db : da;
  });
  // The output as [batch..., M, N]; z<j> its batch indices.
  const full = [...batch, M, N];
  const z = indexNames(nb, 'z');
  // Each operand's own indices (a batch dim of size 1 stays 0), for its offset and zero point.
  const own = (s: readonly number[], last2: [string, string]) => [
    ...s.slice(0, -2).map((d, j) => (d === 1 ? '0u' : z[nb - (s.length - 2) + j]!)),
    ...last2,
  ];
  const aIdx = own(aS, ['m', 'k']);
  const bIdx = own(bS, ['k', 'n']);
  const aOff = affine(aIdx, stridesOf(aS));
  const bOff = affine(bIdx, stridesOf(bS));
  // A zero point refers to A's own (unpromoted) dims.
  const aOwn = a.shape.length === 1 ? ['k'] : aIdx;
  const bOwn = b.shape.length === 1 ? ['k'] : bIdx;
  const za = zpRead(ctx, binds, 'za', ctx.input(azi), a.shape, -2, aOwn, "A's zero point");
  const zb = zpRead(ctx, binds, 'zb', ctx.input(bzi), b.shape, -1, bOwn, "B's zero point");
  const ep = out(binds, y);
  binds.push(bind(y.name, 'y', y.dtype as CudaElem, true));
  if (total === 0) return [];
  // Only the batch indices some operand moves along get a variable (-Wunused-variable).
  const used = [...z.map((name) => aIdx.includes(name) || bIdx.includes(name)), true, true];
  const idx = decompose('flat', full, 'i', used);
  // decompose names dims i0…; rename to z<j>, m, n.
  const names = [...z, 'm', 'n'];
  const lines = idx.map((l) => l.replace(/\bi(\d+)\b/g, (_, d: string) => names[Number(d)]!));
  return [
    perElementKernel(ctx, what, binds, total, [
      ...lines,
      'long long acc = 0;',
      `for (unsigned k = 0u; k < ${u(K)}; ++k) {`,
      `  acc += ((long long)a[${aOff}] - ${za}) * ((long long)b[${bOff}] - ${zb});`,
      '}',
      ...ep.lines,
    ], ep.helpers),
  ];
}

defineOnnxCuda(['MatMulInteger'], (ctx) => {
  if (ctx.output(0)!.dtype !== 'i32') return ctx.unsupported(`MatMulInteger to ${ctx.output(0)!.dtype}`);
  return intMatmul(ctx, 'matmul_integer', 0, 2, 1, 3, storeI32);
});

// QLinearMatMul: A's scale may be per row, B's per column; y's are one value.
defineOnnxCuda(['QLinearMatMul'], (ctx) => {
  const a = ctx.input(0)!;
  const b = ctx.input(3)!;
  const { perRow } = qlinearMatmulScales(ctx, a, b);
  const M = a.shape.length >= 2 ? a.shape[a.shape.length - 2]! : 1;
  const N = b.shape.length >= 2 ? b.shape[b.shape.length - 1]! : 1;
  return intMatmul(ctx, 'qlinear_matmul', 0, 2, 3, 5, requantize(ctx, ctx.input(1)!, ctx.input(4)!, ctx.input(6)!, ctx.input(7), perRow ? { idx: 'm', n: M } : undefined, { idx: 'n', n: N }));
});

/**
 * Integer conv (direct): one thread per output element sums (x − zx)(w − zw) over its group's
 * channels and the kernel window (padding adds nothing: the zero point is subtracted first), plus
 * an i32 bias, then `out`.
 */
function intConv(ctx: CudaContext, what: string, xi: number, xzi: number, wi: number, wzi: number, biasIdx: number | undefined, out: Epilogue): CudaKernel[] {
  const x = ctx.input(xi)!;
  const w = ctx.input(wi)!;
  const bias = biasIdx === undefined ? undefined : ctx.input(biasIdx);
  const y = ctx.output(0)!;
  if (x.shape.length < 3) return ctx.unsupported(`${ctx.node.op} input of rank ${x.shape.length} (N, C and at least one spatial dim expected)`);
  const { C, inSp, M, kernel, win, Cg, Mg } = convGeometry(ctx, x, w);
  const r = inSp.length;
  const binds: CudaBinding[] = [bind(x.name, 'x', dataElem(ctx, x, 'x')), bind(w.name, 'w', dataElem(ctx, w, 'w'))];
  // The x element's indices (n, channel, spatial…) and w's (m, c, kernel…), for the zero points.
  const xCoords = ['n', 'xc', ...inSp.map((_, d) => `(unsigned)i${d}`)];
  const wCoords = ['ch', 'c', ...kernel.map((_, d) => `(unsigned)k${d}`)];
  const zx = zpRead(ctx, binds, 'zx', ctx.input(xzi), x.shape, 1, xCoords, "x's zero point");
  const zw = zpRead(ctx, binds, 'zw', ctx.input(wzi), w.shape, 0, wCoords, "w's zero point");
  if (bias) {
    checkIntBias(ctx, bias, M);
    binds.push(bind(bias.name, 'bias', 'i32'));
  }
  const ep = out(binds, y);
  binds.push(bind(y.name, 'y', y.dtype as CudaElem, true));
  const total = numElements(y.shape);
  if (total === 0) return [];
  const P = numElements(win.out);
  const iStr = stridesOf(inSp);
  const kStr = stridesOf(kernel);
  const loops: string[] = [];
  for (let d = 0; d < r; d++) {
    const pad = '  '.repeat(d + 1);
    loops.push(
      `${pad}for (int k${d} = 0; k${d} < ${kernel[d]}; ++k${d}) {`,
      `${pad}  const int i${d} = o${d} * ${win.strides[d]} - ${win.padBegin[d]} + k${d} * ${win.dilations[d]};`,
      `${pad}  if (i${d} < 0 || i${d} >= ${inSp[d]}) continue;`,
    );
  }
  const ind = '  '.repeat(r + 1);
  const xOff = `xBase + ${affine(inSp.map((_, d) => `(unsigned)i${d}`), iStr)}`;
  const wOff = `wBase + ${affine(kernel.map((_, d) => `(unsigned)k${d}`), kStr)}`;
  return [
    perElementKernel(ctx, what, binds, total, [
      `const unsigned p = flat % ${u(P)};`,
      `const unsigned ch = (flat / ${u(P)}) % ${u(M)};`,
      `const unsigned n = flat / ${u(M * P)};`,
      `const unsigned g = ch / ${u(Mg)};`,
      ...win.out.map((o, d) => `const int o${d} = (int)((p / ${u(numElements(win.out.slice(d + 1)))}) % ${u(o)});`),
      `long long acc = ${bias ? '(long long)bias[ch]' : '0'};`,
      `for (unsigned c = 0u; c < ${u(Cg)}; ++c) {`,
      `  const unsigned xc = g * ${u(Cg)} + c;`,
      `  const unsigned xBase = (n * ${u(C)} + xc) * ${u(numElements(inSp))};`,
      `  const unsigned wBase = (ch * ${u(Cg)} + c) * ${u(numElements(kernel))};`,
      ...loops,
      `${ind}acc += ((long long)x[${xOff}] - ${zx}) * ((long long)w[${wOff}] - ${zw});`,
      ...Array.from({ length: r }, (_, d) => `${'  '.repeat(r - d)}}`),
      '}',
      ...ep.lines,
    ], ep.helpers),
  ];
}

defineOnnxCuda(['ConvInteger'], (ctx) => {
  if (ctx.output(0)!.dtype !== 'i32') return ctx.unsupported(`ConvInteger to ${ctx.output(0)!.dtype}`);
  return intConv(ctx, 'conv_integer', 0, 2, 1, 3, undefined, storeI32);
});

// QLinearConv: x's scale is one value, w's one or per output channel; the bias is i32 with scale
// x_scale·w_scale and zero point 0.
defineOnnxCuda(['QLinearConv'], (ctx) =>
  intConv(ctx, 'qlinear_conv', 0, 2, 3, 5, 8, requantize(ctx, ctx.input(1)!, ctx.input(4)!, ctx.input(6)!, ctx.input(7), undefined, { idx: 'ch', n: ctx.input(3)!.shape[0]! })),
);
