// Quantization: QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked), DynamicQuantizeLinear
// (a one-workgroup min/max reduction that writes the scale and zero point, then the quantize), and the
// integer and QLinear forms of MatMul and Conv (direct kernels, one invocation per output element,
// accumulating exactly in i32).
//
// The interpreter (ir/interp/ops/quant.ts) is the oracle: a value is divided by its scale and rounded
// to f32 (x / s correctly rounded), rounded half to even, offset by the zero point and saturated to the
// target's range; the requantizing forms compute acc·sa·sb / sy in f64 before rounding to f32. The
// kernels reproduce those roundings in f32 with error-free transformations: products split exactly
// (with fma where the device fuses it, decided at run time, else Veltkamp's split, which plain f32
// multiplications and additions make exact), sums kept as (hi, lo) pairs, and a quotient corrected by
// its exact residual. What is left differs from the f64 computation only within ~2⁻⁴⁴ of a rounding
// boundary. Targets: i8, u8, i16, u16 and i32 (stored as i32, u16 as u32); fp8 and 4-bit types have
// no WGSL storage, so those nodes are unsupported.
import type { DType } from '../../../ir/dtype.ts';
import { checkIntBias, dynamicQuantOperands, intMatmulShapes, paramLayout, qlinearMatmulScales, QUANT_RANGE, scaleIsScalar, zeroPointLayout } from '../../shared/quant-params.ts';
import type { Kernel, KernelBinding } from '../kernel.ts';
import { storageElem } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { bindingDecl, broadcastStrides, flatIndex, grid1d, keyOf, offsetExpr, preamble, stridesOf, u } from './kernel-util.ts';
import { convGeometry } from '../../shared/conv-plan.ts';

const numElements = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const WG = 64;

const NO_STORAGE = new Set<DType>(['f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz', 'f4e2m1', 'i4', 'u4'] as DType[]);

/** The storage element of a quantized (integer) operand or result; unsupported for fp8 / 4-bit. */
function intElem(ctx: LowerContext, t: StaticTensor, what: string): KernelBinding['elem'] {
  if (NO_STORAGE.has(t.dtype)) {
    return ctx.unsupported(`${what} is ${t.dtype}: WGSL has no storage for fp8 or 4-bit types (the runtime holds each element in 32 bits and packs no sub-byte data)`);
  }
  if (!QUANT_RANGE[t.dtype]) return ctx.unsupported(`${what} is ${t.dtype}; the WGSL quantization kernels take int8, uint8, int16, uint16 and int32`);
  return storageElem(t.dtype, ctx.caps.f16)!;
}

/** The storage element of a float operand (scale, data): f32, or f16 where the device has it. */
function realElem(ctx: LowerContext, t: StaticTensor, what: string): KernelBinding['elem'] {
  if (t.dtype !== 'f32' && t.dtype !== 'f16' && t.dtype !== 'bf16') return ctx.unsupported(`${what} is ${t.dtype}; the WGSL kernel takes f32, f16 or bf16`);
  return storageElem(t.dtype, ctx.caps.f16)!;
}

const lit = (n: number): string => (n === -2147483648 ? 'IMIN' : `${n}`);

/**
 * WGSL: exact arithmetic on f32 pairs. `fused` says whether fma rounds once on this device (a
 * software Vulkan adapter computes it as a multiply and an add); it is decided from a value the
 * compiler cannot fold, so one shader serves both.
 */
const EXACT = `const IMIN: i32 = -2147483647 - 1;
// A run-time false: opq(v) is v, but an optimizer that simplifies inexact float expressions
// (a + b − a → b, as Mesa's does) cannot see through it, so each step rounds as written.
var<private> NEVER: bool;
fn opq(v: f32) -> f32 { return select(v, 0.0, NEVER); }
fn init_exact(n: u32) -> bool {
  NEVER = n == 0u;
  let t = opq(1.000244140625);
  return opq(fma(t, t, -opq(t * t))) != 0.0;
}
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = opq(a + b);
  let bb = opq(s - a);
  return vec2<f32>(s, opq(a - opq(s - bb)) + opq(b - bb));
}
fn fast_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = opq(a + b);
  return vec2<f32>(s, b - opq(s - a));
}
fn split12(a: f32) -> vec2<f32> {
  let c = opq(4097.0 * a);
  let h = opq(c - opq(c - a));
  return vec2<f32>(h, opq(a - h));
}
// a·b = p.x + p.y exactly.
fn two_prod(a: f32, b: f32, fused: bool) -> vec2<f32> {
  let p = opq(a * b);
  if (fused) { return vec2<f32>(p, fma(a, b, -p)); }
  let x = split12(a);
  let y = split12(b);
  return vec2<f32>(p, opq(opq(opq(opq(x.x * y.x) - p) + opq(x.x * y.y)) + opq(x.y * y.x)) + opq(x.y * y.y));
}
fn not_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}
// (nh + nl) / d rounded to f32: the quotient corrected by its exact residual.
fn div_dd(nh: f32, nl: f32, d: f32, fused: bool) -> f32 {
  let q = opq(nh / d);
  if (q == 0.0 || not_finite(q)) { return q; }
  let p = two_prod(q, d, fused);
  let r = opq(opq(opq(nh - p.x) - p.y) + nl);
  return q + r / d;
}
// An i32 as an exact f32 pair (high bits, low 12 bits).
fn int_dd(a: i32) -> vec2<f32> {
  let lo = a & 4095;
  return vec2<f32>(f32(a - lo), f32(lo));
}
// An exact pair a (a.x with few significant bits) times an exact pair p, as a pair.
fn mul_dd(a: vec2<f32>, p: vec2<f32>, fused: bool) -> vec2<f32> {
  let t1 = two_prod(a.x, p.x, fused);
  let t2 = two_prod(a.y, p.x, fused);
  let s = two_sum(t1.x, t2.x);
  let lo = opq(opq(s.y + t1.y) + t2.y) + opq(a.x + a.y) * p.y;
  return fast_two_sum(s.x, lo);
}
// r (an integer-valued f32, or ±inf) + z exactly, saturated to the i32 range.
fn sat_add(r: f32, z: i32) -> i32 {
  if (r >= 4294967296.0) { return 2147483647; }
  if (r <= -4294967296.0) { return IMIN; }
  if (r >= 2147483648.0) {
    if (z >= 0) { return 2147483647; }
    let s = i32(r - 2147483648.0) + z;
    if (s >= 0) { return 2147483647; }
    return (s + 2147483647) + 1;
  }
  if (r < -2147483648.0) {
    if (z <= 0) { return IMIN; }
    let s = i32(r + 2147483648.0) + z;
    if (s < 0) { return IMIN; }
    return (s - 2147483647) - 1;
  }
  let q = i32(r);
  if (z > 0 && q > 2147483647 - z) { return 2147483647; }
  if (z < 0 && q < IMIN - z) { return IMIN; }
  return q + z;
}`;

/** WGSL `fn quantize(v: f32, z: i32) -> i32`: round half to even, add z, saturate to `dtype`. */
function quantizeFn(dtype: DType): string {
  const [lo, hi] = QUANT_RANGE[dtype]!;
  return `fn quantize(v: f32, z: i32) -> i32 {
  if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { return 0; }
  return clamp(sat_add(round(v), z), ${lit(lo)}, ${lit(hi)});
}`;
}

/** WGSL: set up the run-time false from a buffer's length, and learn whether fma is fused. */
const fusedDecl = (buf: string) => `let fused = init_exact(arrayLength(&${buf}));`;

/**
 * WGSL u32 offset into a scale / zero-point operand of shape `p` for flat element `i` of data of
 * shape `x` (QuantizeLinear / DequantizeLinear): per tensor, per axis (1-D along `axis`) or blocked.
 */
function paramOffset(ctx: LowerContext, i: string, x: readonly number[], p: readonly number[], axis: number, block: number, what: string): string {
  const l = paramLayout(ctx, x, p, axis, block, what);
  if (l.kind === 'tensor') return '0u';
  const along = l.inner === 1 ? i : `(${i} / ${u(l.inner)})`;
  if (l.kind === 'axis') return `(${along} % ${u(l.D)})`;
  const outer = `(${i} / ${u(l.D * l.inner)})`;
  return `((${outer} * ${u(l.blocks)} + (${along} % ${u(l.D)}) / ${u(l.block)}) * ${u(l.inner)}${l.inner === 1 ? '' : ` + ${i} % ${u(l.inner)}`})`;
}

/**
 * Bindings in order, with their WGSL names. Small operands (scales, zero points) are read through
 * `param`: bound directly, or, for kernels that would pass WebGPU's 8 storage buffers per stage
 * (QLinearMatMul, QLinearConv), copied first by a pack kernel into one f32 scratch buffer `P`
 * (8/16-bit zero points are exact in f32).
 */
class Binds {
  readonly list: { name: string; b: KernelBinding }[] = [];
  private readonly packed: { name: string; t: StaticTensor; elem: KernelBinding['elem']; off: number }[] = [];
  private hasPack = false;
  private packSize = 0;
  constructor(private readonly packName?: string) {}
  add(name: string, value: string, elem: KernelBinding['elem'], write = false): string {
    this.list.push({ name, b: { value, access: write ? 'read_write' : 'read', elem } });
    return name;
  }
  /** WGSL reading element `idx` of a small operand, as i32 (`int`) or f32 (`real`). */
  param(ctx: LowerContext, name: string, t: StaticTensor, kind: 'int' | 'real', what: string): (idx: string) => string {
    const elem = kind === 'int' ? intElem(ctx, t, what) : realElem(ctx, t, what);
    if (!this.packName) {
      this.add(name, t.name, elem);
      return (i) => `${kind === 'int' ? 'i32' : 'f32'}(${name}[${i}])`;
    }
    if (!this.hasPack) {
      this.hasPack = true;
      this.list.push({ name: 'P', b: { value: this.packName, access: 'read', elem: 'f32' } });
    }
    const off = this.packSize;
    this.packSize += numElements(t.shape);
    this.packed.push({ name, t, elem, off });
    return (i) => (kind === 'int' ? `i32(P[${u(off)} + ${i}])` : `P[${u(off)} + ${i}]`);
  }
  /** The pack kernel (none when nothing is packed), which declares P (scratchBytes); later kernels bind it by name. */
  packKernel(ctx: LowerContext): Kernel[] {
    if (!this.hasPack) return [];
    const bytes = Math.max(4, this.packSize * 4);
    const pb = new Binds();
    for (const e of this.packed) pb.add(e.name, e.t.name, e.elem);
    pb.list.push({ name: 'P', b: { value: this.packName!, access: 'read_write', elem: 'f32', scratchBytes: bytes } });
    const body = this.packed
      .map((e) => `if (t < ${u(e.off + numElements(e.t.shape))}) { P[t] = f32(${e.name}[t - ${u(e.off)}]); return; }`)
      .join('\n  ');
    return [elementKernel(ctx, 'pack_params', [this.packed.map((e) => [e.off, e.t.shape])], this.packSize, pb, [], body)];
  }
  get bindings(): KernelBinding[] {
    return this.list.map((x) => x.b);
  }
  decls(): string {
    return this.list.map((x, i) => bindingDecl(i, x.name, x.b)).join('\n');
  }
}

/** One invocation per element of `total`: `t` is the flat index in `body`. */
function elementKernel(ctx: LowerContext, what: string, key: unknown[], total: number, binds: Binds, helpers: string[], body: string): Kernel {
  const bindings = binds.bindings;
  const dispatch = grid1d(total, WG, ctx.caps.maxComputeWorkgroupsPerDimension);
  const code = `${preamble(bindings)}${binds.decls()}

${helpers.join('\n')}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = ${flatIndex(WG, dispatch)};
  if (t >= ${u(total)}) { return; }
  ${body}
}
`;
  return {
    name: ctx.kernelName(what),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf(what, ...key, bindings.map((b) => b.elem)),
    code,
    bindings,
    uniforms: [],
    dispatch,
  };
}

// QuantizeLinear: y = saturate(round_half_even(fl32(x / s)) + zp), the zero point's dtype (else
// output_dtype, else u8) giving the range. `saturate` concerns fp8 targets only.
defineOnnxWgsl(['QuantizeLinear'], (ctx) => {
  const x = ctx.input(0)!;
  const s = ctx.input(1)!;
  const zp = ctx.input(2);
  const y = ctx.output(0)!;
  const yElem = intElem(ctx, y, 'the quantized result');
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  const total = numElements(x.shape);
  if (total === 0) return [];
  const binds = new Binds();
  // x is a float, or i32 (opsets 10–12), taken as an exact pair.
  const intX = x.dtype === 'i32';
  binds.add('x', x.name, intX ? 'i32' : realElem(ctx, x, 'x'));
  binds.add('sc', s.name, realElem(ctx, s, 'the scale'));
  if (zp) binds.add('zp', zp.name, intElem(ctx, zp, 'the zero point'));
  binds.add('y', y.name, yElem, true);
  const so = paramOffset(ctx, 't', x.shape, s.shape, axis, block, 'scale');
  const zo = zp ? paramOffset(ctx, 't', x.shape, zp.shape, axis, block, 'zero point') : '';
  const body = `${fusedDecl('y')}
  ${intX ? 'let xv = int_dd(x[t]);\n  let xp = fast_two_sum(xv.x, xv.y);' : 'let xp = vec2<f32>(f32(x[t]), 0.0);'}
  let v = div_dd(xp.x, xp.y, f32(sc[${so}]), fused);
  y[t] = ${yElem}(quantize(v, ${zp ? `i32(zp[${zo}])` : '0'}));`;
  return [elementKernel(ctx, 'quantize', [x.shape, s.shape, zp?.shape, y.dtype, axis, block, intX], total, binds, [EXACT, quantizeFn(y.dtype)], body)];
});

// DequantizeLinear: y = (x − zp) · s, in the scale's dtype. 8/16-bit differences are exact in f32,
// so one rounded product matches; i32 data is split into an exact pair first.
defineOnnxWgsl(['DequantizeLinear'], (ctx) => {
  const x = ctx.input(0)!;
  const s = ctx.input(1)!;
  const zp = ctx.input(2);
  const y = ctx.output(0)!;
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  const total = numElements(x.shape);
  if (total === 0) return [];
  const binds = new Binds();
  binds.add('x', x.name, intElem(ctx, x, 'x'));
  binds.add('sc', s.name, realElem(ctx, s, 'the scale'));
  if (zp) binds.add('zp', zp.name, intElem(ctx, zp, 'the zero point'));
  const yElem = realElem(ctx, y, 'the result');
  binds.add('y', y.name, yElem, true);
  const so = paramOffset(ctx, 't', x.shape, s.shape, axis, block, 'scale');
  const zo = zp ? paramOffset(ctx, 't', x.shape, zp.shape, axis, block, 'zero point') : '';
  const z = zp ? `i32(zp[${zo}])` : '0';
  const wide = x.dtype === 'i32' || zp?.dtype === 'i32';
  const body = wide
    ? `${fusedDecl('y')}
  let a = int_dd(i32(x[t]));
  let b = int_dd(${z});
  // (x − z) as an exact pair: the high parts differ by a multiple of 4096 below 2^33.
  let d = fast_two_sum(opq(a.x - b.x), opq(a.y - b.y));
  let sv = f32(sc[${so}]);
  let p = two_prod(d.x, sv, fused);
  y[t] = ${yElem}(p.x + opq(p.y + opq(d.y * sv)));`
    : `y[t] = ${yElem}(f32(i32(x[t]) - ${z}) * f32(sc[${so}]));`;
  return [elementKernel(ctx, 'dequantize', [x.shape, s.shape, zp?.shape, wide, axis, block], total, binds, wide ? [EXACT] : [], body)];
});

// DynamicQuantizeLinear: one workgroup finds min(0, x) and max(0, x) (NaNs skipped) and writes
// y_scale = (max − min) / 255 and y_zero_point = saturate(round(−min / y_scale)); a second kernel
// quantizes x to u8 with them (all zeros when the scale is 0).
defineOnnxWgsl(['DynamicQuantizeLinear'], (ctx) => {
  const { x, y, ys, yz } = dynamicQuantOperands(ctx);
  const xElem = realElem(ctx, x, 'x');
  const total = numElements(x.shape);
  // The scale and zero point are needed by the quantize kernel even when the graph drops them.
  const sName = ys?.name ?? `${ctx.node.name}/scale`;
  const zName = yz?.name ?? `${ctx.node.name}/zero_point`;
  // Scratch is declared (scratchBytes) by the first kernel only; the second binds it by name.
  const scratch = (name: string, elem: KernelBinding['elem'], write: boolean): KernelBinding => ({
    value: name,
    access: write ? 'read_write' : 'read',
    elem,
    ...(write && name.startsWith(`${ctx.node.name}/`) ? { scratchBytes: 4 } : {}),
  });
  const R = Math.min(256, ctx.caps.maxWorkgroupInvocations || 256);
  const red: KernelBinding[] = [
    { value: x.name, access: 'read', elem: xElem },
    scratch(sName, 'f32', true),
    scratch(zName, 'i32', true),
  ];
  const code = `${preamble(red)}${bindingDecl(0, 'x', red[0]!)}
${bindingDecl(1, 'ys', red[1]!)}
${bindingDecl(2, 'yz', red[2]!)}
var<workgroup> wlo: array<f32, ${R}>;
var<workgroup> whi: array<f32, ${R}>;

${EXACT}
${quantizeFn('u8')}

@compute @workgroup_size(${R})
fn main(@builtin(local_invocation_index) li: u32) {
  var lo = 0.0;
  var hi = 0.0;
  for (var i = li; i < ${u(total)}; i += ${u(R)}) {
    let v = f32(x[i]);
    if (v < lo) { lo = v; }
    if (v > hi) { hi = v; }
  }
  wlo[li] = lo;
  whi[li] = hi;
  workgroupBarrier();
  for (var s = ${u(R >> 1)}; s > 0u; s >>= 1u) {
    if (li < s) {
      if (wlo[li + s] < lo) { lo = wlo[li + s]; wlo[li] = lo; }
      if (whi[li + s] > hi) { hi = whi[li + s]; whi[li] = hi; }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    ${fusedDecl('ys')}
    // (hi − lo) / 255 rounded once: the difference as an exact pair, then the corrected quotient.
    let d = two_sum(hi, -lo);
    let scale = div_dd(d.x, d.y, 255.0, fused);
    ys[0] = scale;
    yz[0] = select(quantize(div_dd(-lo, 0.0, scale, fused), 0), 0, scale == 0.0);
  }
}
`;
  const reduce: Kernel = {
    name: ctx.kernelName('minmax'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('dql-minmax', total, R, xElem),
    code,
    bindings: red,
    uniforms: [],
    dispatch: [1, 1, 1],
  };
  if (total === 0) return [reduce];
  const binds = new Binds();
  binds.add('x', x.name, xElem);
  binds.list.push({ name: 'ys', b: scratch(sName, 'f32', false) }, { name: 'yz', b: scratch(zName, 'i32', false) });
  const yElem = intElem(ctx, y, 'y');
  binds.add('y', y.name, yElem, true);
  const body = `${fusedDecl('y')}
  let scale = ys[0];
  y[t] = ${yElem}(select(quantize(div_dd(f32(x[t]), 0.0, scale, fused), yz[0]), 0, scale == 0.0));`;
  return [reduce, elementKernel(ctx, 'dql-quantize', [total], total, binds, [EXACT, quantizeFn('u8')], body)];
});

/**
 * How a zero point lines up with its data (ir/interp/ops/quant-util.ts minusZeroPoint): one value;
 * a 1-D vector along dim `vecDim` of the data; or any shape that broadcasts to it. Returns the
 * WGSL u32 offset into the zero point for flat data index `i` ('0u' for one value).
 */
function zpOffset(ctx: LowerContext, i: string, x: readonly number[], zp: readonly number[], vecDim: number, what: string): string {
  const l = zeroPointLayout(ctx, x, zp, vecDim, what);
  if (l.kind === 'one') return '0u';
  if (l.kind === 'vector') return `((${i} / ${u(numElements(x.slice(l.d + 1)))}) % ${u(zp[0]!)})`;
  return `(${offsetExpr(i, x, broadcastStrides(zp, x))})`;
}

/** A zero point read as i32 for flat data index `i` (0 where there is none). */
function zpRead(ctx: LowerContext, binds: Binds, name: string, t: StaticTensor | undefined, i: string, x: readonly number[], vecDim: number, what: string): string {
  if (!t) return '0';
  return binds.param(ctx, name, t, 'int', what)(zpOffset(ctx, i, x, t.shape, vecDim, what));
}

/** An integer data operand (8/16-bit: its products accumulate exactly in i32). */
function intData(ctx: LowerContext, binds: Binds, name: string, t: StaticTensor, what: string): void {
  binds.add(name, t.name, intElem(ctx, t, what));
}

/** One value of a scale operand, or 1-D of `n` (indexed by `idx`). */
function scaleRead(ctx: LowerContext, binds: Binds, name: string, t: StaticTensor, idx: string, n: number, what: string): string {
  const read = binds.param(ctx, name, t, 'real', what);
  return read(scaleIsScalar(ctx, t, n, what) ? '0u' : idx);
}

interface QOut {
  /** WGSL statements after `acc` is summed (the result written to y[t]). */
  readonly epilogue: string;
  readonly helpers: string[];
  readonly key: unknown[];
}

/** The QLinear epilogue: operands' scales (per tensor or along `mDim`/`nDim`), y's scale and zero point. */
function qlinearOut(
  ctx: LowerContext,
  binds: Binds,
  y: StaticTensor,
  yElem: string,
  aScale: StaticTensor,
  bScale: StaticTensor,
  yScale: StaticTensor,
  yZp: StaticTensor | undefined,
  aIdx: { idx: string; n: number } | undefined,
  bIdx: { idx: string; n: number },
): QOut {
  const sa = aIdx ? scaleRead(ctx, binds, 'sa', aScale, aIdx.idx, aIdx.n, 'the first scale') : scaleRead(ctx, binds, 'sa', aScale, '0u', 1, 'the first scale');
  const sb = scaleRead(ctx, binds, 'sb', bScale, bIdx.idx, bIdx.n, 'the second scale');
  const sy = scaleRead(ctx, binds, 'sy', yScale, '0u', 1, 'y_scale');
  const zy = yZp ? binds.param(ctx, 'zy', yZp, 'int', 'y_zero_point')('0u') : '0';
  // fl32(acc · sa · sb / sy): sa·sb and the product with acc as exact pairs, one rounded quotient.
  return {
    epilogue: `${fusedDecl('y')}
  let sp = two_prod(${sa}, ${sb}, fused);
  let nv = mul_dd(int_dd(acc), sp, fused);
  let v = div_dd(nv.x, nv.y, ${sy}, fused);
  y[t] = ${yElem}(quantize(v, ${zy}));`,
    helpers: [EXACT, quantizeFn(y.dtype)],
    key: [aScale.shape, bScale.shape, !!yZp, y.dtype],
  };
}

/**
 * Integer matmul, numpy broadcasting over the batch dims and 1-D promotion: acc = Σ_k (A − za)(B − zb)
 * in i32 (A's zero point per row, B's per column, as MatMulInteger defines them), then `out`.
 */
function intMatmul(ctx: LowerContext, what: string, ai: number, azi: number, bi: number, bzi: number, out?: (binds: Binds, y: StaticTensor, yElem: string, M: number, N: number) => QOut): Kernel[] {
  const a = ctx.input(ai)!;
  const b = ctx.input(bi)!;
  const y = ctx.output(0)!;
  const { aS: as, bS: bs, M, K, N } = intMatmulShapes(a, b);
  const total = numElements(y.shape);
  if (total === 0) return [];
  const batch = y.shape.slice(0, y.shape.length - (a.shape.length === 1 ? 0 : 1) - (b.shape.length === 1 ? 0 : 1));
  const base = (own: readonly number[], size: number) => {
    const e = offsetExpr('z', batch, broadcastStrides(own, batch));
    return e === '0u' ? e : `(${e}) * ${u(size)}`;
  };
  const binds = new Binds(out ? `${ctx.node.name}/params` : undefined);
  intData(ctx, binds, 'a', a, 'A');
  intData(ctx, binds, 'b', b, 'B');
  const za = zpRead(ctx, binds, 'za', ctx.input(azi), 'ia', a.shape, -2, "A's zero point");
  const zb = zpRead(ctx, binds, 'zb', ctx.input(bzi), 'ib', b.shape, -1, "B's zero point");
  const yElem = intElem(ctx, y, 'y');
  // The epilogue's operands, then the output.
  const q = out?.(binds, y, yElem, M, N);
  binds.add('y', y.name, yElem, true);
  const body = `let n = t % ${u(N)};
  let m = (t / ${u(N)}) % ${u(M)};
  let z = t / ${u(M * N)};
  let aBase = ${base(as.slice(0, -2), M * K)} + m * ${u(K)};
  let bBase = ${base(bs.slice(0, -2), K * N)} + n;
  var acc = 0;
  for (var k = 0u; k < ${u(K)}; k++) {
    let ia = aBase + k;
    let ib = bBase + k * ${u(N)};
    acc += (i32(a[ia]) - ${za}) * (i32(b[ib]) - ${zb});
  }
  ${q ? q.epilogue : 'y[t] = acc;'}`;
  const pack = binds.packKernel(ctx);
  return [...pack, elementKernel(ctx, what, [a.shape, b.shape, y.shape, ctx.input(azi)?.shape, ctx.input(bzi)?.shape, ...(q?.key ?? [])], total, binds, q?.helpers ?? [], body)];
}

defineOnnxWgsl(['MatMulInteger'], (ctx) => {
  if (ctx.output(0)!.dtype !== 'i32') return ctx.unsupported(`MatMulInteger to ${ctx.output(0)!.dtype}`);
  return intMatmul(ctx, 'matmul_integer', 0, 2, 1, 3);
});

// QLinearMatMul: A's scale and zero point may be per row, B's per column; y's are one value.
defineOnnxWgsl(['QLinearMatMul'], (ctx) => {
  const a = ctx.input(0)!;
  const b = ctx.input(3)!;
  return intMatmul(ctx, 'qlinear_matmul', 0, 2, 3, 5, (binds, y, yElem, M, N) => {
    const { perRow } = qlinearMatmulScales(ctx, a, b);
    return qlinearOut(ctx, binds, y, yElem, ctx.input(1)!, ctx.input(4)!, ctx.input(6)!, ctx.input(7), perRow ? { idx: 'm', n: M } : undefined, { idx: 'n', n: N });
  });
});

/**
 * Integer conv (direct): one invocation per output element sums (x − zx)(w − zw) over its group's
 * channels and the kernel window (padding adds nothing: the zero point is subtracted first), plus
 * an i32 bias, then `out` (or the i32 sum itself).
 */
function intConv(ctx: LowerContext, what: string, xi: number, xzi: number, wi: number, wzi: number, biasIdx: number | undefined, out: ((binds: Binds, y: StaticTensor, yElem: string, M: number) => QOut) | undefined): Kernel[] {
  const x = ctx.input(xi)!;
  const w = ctx.input(wi)!;
  const bias = biasIdx === undefined ? undefined : ctx.input(biasIdx);
  const y = ctx.output(0)!;
  const { C, inSp, M, group, kernel, win, Cg, Mg } = convGeometry(ctx, x, w);
  const total = numElements(y.shape);
  if (total === 0) return [];
  const P = numElements(win.out);
  const kSize = numElements(kernel);
  const oStr = stridesOf(win.out);
  const iStr = stridesOf(inSp);
  const kStr = stridesOf(kernel);
  const binds = new Binds(out ? `${ctx.node.name}/params` : undefined);
  intData(ctx, binds, 'x', x, 'x');
  intData(ctx, binds, 'w', w, 'w');
  const zx = zpRead(ctx, binds, 'zx', ctx.input(xzi), 'xo', x.shape, 1, "x's zero point");
  const zw = zpRead(ctx, binds, 'zw', ctx.input(wzi), 'wo', w.shape, 0, "w's zero point");
  if (bias) {
    checkIntBias(ctx, bias, M);
    binds.add('bias', bias.name, 'i32');
  }
  const yElem = intElem(ctx, y, 'y');
  const q = out?.(binds, y, yElem, M);
  binds.add('y', y.name, yElem, true);
  const dims = inSp
    .map((_, d) =>
      [
        `let k${d} = i32((kr / ${u(kStr[d]!)}) % ${u(kernel[d]!)});`,
        `let i${d} = o${d} * ${win.strides[d]!} - ${win.padBegin[d]!} + k${d} * ${win.dilations[d]!};`,
        `if (i${d} < 0 || i${d} >= ${inSp[d]!}) { continue; }`,
      ].join('\n      '),
    )
    .join('\n      ');
  const inOff = inSp.length ? inSp.map((_, d) => `u32(i${d}) * ${u(iStr[d]!)}`).join(' + ') : '0u';
  const body = `let p = t % ${u(P)};
  let ch = (t / ${u(P)}) % ${u(M)};
  let n = t / ${u(M * P)};
  let g = ch / ${u(Mg)};
  ${win.out.map((o, d) => `let o${d} = i32((p / ${u(oStr[d]!)}) % ${u(o)});`).join('\n  ')}
  var acc = ${bias ? 'bias[ch]' : '0'};
  for (var c = 0u; c < ${u(Cg)}; c++) {
    let xBase = (n * ${u(C)} + g * ${u(Cg)} + c) * ${u(numElements(inSp))};
    let wBase = (ch * ${u(Cg)} + c) * ${u(kSize)};
    for (var kr = 0u; kr < ${u(kSize)}; kr++) {
      ${dims}
      let xo = xBase + ${inOff};
      let wo = wBase + kr;
      acc += (i32(x[xo]) - ${zx}) * (i32(w[wo]) - ${zw});
    }
  }
  ${q ? q.epilogue : 'y[t] = acc;'}`;
  const pack = binds.packKernel(ctx);
  return [
    ...pack,
    elementKernel(ctx, what, [x.shape, w.shape, y.shape, group, win, !!bias, ctx.input(xzi)?.shape, ctx.input(wzi)?.shape, ...(q?.key ?? [])], total, binds, q?.helpers ?? [], body),
  ];
}

defineOnnxWgsl(['ConvInteger'], (ctx) => {
  if (ctx.output(0)!.dtype !== 'i32') return ctx.unsupported(`ConvInteger to ${ctx.output(0)!.dtype}`);
  return intConv(ctx, 'conv_integer', 0, 2, 1, 3, undefined, undefined);
});

// QLinearConv: x's scale is one value, w's one or per output channel; the bias is i32 with scale
// x_scale·w_scale and zero point 0.
defineOnnxWgsl(['QLinearConv'], (ctx) =>
  intConv(ctx, 'qlinear_conv', 0, 2, 3, 5, 8, (binds, y, yElem, M) =>
    qlinearOut(ctx, binds, y, yElem, ctx.input(1)!, ctx.input(4)!, ctx.input(6)!, ctx.input(7), undefined, { idx: 'ch', n: M }),
  ),
);
