// Elementwise ops as CUDA C expressions: one entry per op, giving the expression of the result
// from the operand expressions (plain local names). The same table serves a single node's kernel
// and a fused chain (../../wgsl/fuse.ts), and can serve matmul/reduction epilogues: the caller
// decides where operands come from. Values are computed in float (f32, f16, bf16), double (f64),
// bool, or the integer's own C type; the caller converts each result to its dtype (integers wrap,
// f16/bf16 round to nearest even after every op, as the interpreter does).
//
// Semantics follow the reference interpreter (ir/interp/ops/*): integer arithmetic wraps (done in
// unsigned types: signed overflow is undefined in C), integer division or modulo by zero gives 0,
// Max/Min/Clip/Relu propagate NaN, float → integer Cast truncates and wraps (NaN and ±Inf give 0,
// or INT64_MIN for 64-bit targets), Pow follows JavaScript's Math.pow.
import type { AttrReader } from '../../../ir/attr-reader.ts';
import type { DType } from '../../../ir/dtype.ts';
import { C_TYPE, cudaElem } from '../kernel.ts';

/** A value's type while computing: `float`, `double`, `bool` or an integer C type. */
export type ComputeType = string;

const INT_BITS: Readonly<Partial<Record<DType, number>>> = { i8: 8, u8: 8, i16: 16, u16: 16, i32: 32, u32: 32, i64: 64, u64: 64 };
const UNSIGNED = new Set<DType>(['u8', 'u16', 'u32', 'u64']);

export const isFloatType = (d: DType) => d === 'f32' || d === 'f16' || d === 'bf16' || d === 'f64';
export const isIntType = (d: DType) => INT_BITS[d] !== undefined;

/** The compute type of a dtype, or undefined where CUDA kernels cannot hold it. */
export function computeType(d: DType): ComputeType | undefined {
  if (d === 'f32' || d === 'f16' || d === 'bf16') return 'float';
  if (d === 'f64') return 'double';
  if (d === 'bool') return 'bool';
  const e = cudaElem(d);
  return e ? C_TYPE[e] : undefined;
}

/** What an op's expression may ask of the kernel it is placed in. */
export interface CudaEwEnv extends AttrReader {
  readonly opset: number;
  /** Operand dtypes (undefined: omitted) and the result dtype. */
  readonly inTypes: readonly (DType | undefined)[];
  readonly outType: DType;
  /** Require a `__device__` helper (by its text; deduplicated). */
  helper(code: string): void;
  /** Refuse the op (an UnsupportedOp error naming the node). */
  fail(why: string): never;
}

export interface CudaEwOp {
  /** C expression of the result; `a[i]` is undefined for an omitted optional operand. */
  expr(a: readonly (string | undefined)[], e: CudaEwEnv): string;
  /** Defined on float operands only (the interpreter refuses the others too). */
  readonly floatOnly?: boolean;
}

// ---- literals and per-type names ----

/** A float literal of the compute type (`0.5f`, `0.5`, `INFINITY`). */
export function floatLit(v: number, t: 'float' | 'double'): string {
  const x = t === 'float' ? Math.fround(v) : v;
  if (Number.isNaN(x)) return t === 'float' ? 'NAN' : '((double)NAN)';
  if (!Number.isFinite(x)) return t === 'float' ? (x > 0 ? 'INFINITY' : '(-INFINITY)') : x > 0 ? '((double)INFINITY)' : '(-(double)INFINITY)';
  let s = Object.is(x, -0) ? '-0.0' : String(x);
  if (!/[.eE]/.test(s)) s += '.0';
  if (t === 'float') s += 'f';
  return s.startsWith('-') ? `(${s})` : s;
}

/** The float compute type of operand i (f64: double; every other float: float). */
const fty = (e: CudaEwEnv, i = 0): 'float' | 'double' => (e.inTypes[i] === 'f64' ? 'double' : 'float');
/** libm name for the type: `expf` for float, `exp` for double. */
const fn = (name: string, t: 'float' | 'double') => (t === 'float' ? `${name}f` : name);
const lit = (e: CudaEwEnv, v: number, i = 0) => floatLit(v, fty(e, i));
const ty = (d: DType | undefined): DType => d ?? 'f32';
const isF = (e: CudaEwEnv, i = 0) => isFloatType(ty(e.inTypes[i]));
const ctypeOf = (d: DType) => computeType(d) ?? 'float';
/** The unsigned type integer arithmetic of dtype d wraps in. */
const wideU = (d: DType) => (INT_BITS[d] === 64 ? 'uint64_t' : 'uint32_t');
/** Wrapping integer arithmetic: `(T)((U)a op (U)b)`. */
const wrap = (d: DType, a: string, op: string, b: string) => `(${ctypeOf(d)})((${wideU(d)})${a} ${op} (${wideU(d)})${b})`;

// ---- helpers ----

/** `__device__` helper text, one per float compute type (suffix `_f` / `_d`). */
function typed(name: string, t: 'float' | 'double', body: (T: string, f: (n: string) => string, k: (v: number) => string) => string): string {
  return body(t, (n) => fn(n, t), (v) => floatLit(v, t)).replace(/\bNAME\b/g, `${name}_${t === 'float' ? 'f' : 'd'}`);
}
const hname = (name: string, t: 'float' | 'double') => `${name}_${t === 'float' ? 'f' : 'd'}`;

const H = {
  sigmoid: (t: 'float' | 'double') =>
    typed('lathe_sigmoid', t, (T, f, k) => `// exp of a non-positive argument only: no overflow for large |x|.
__device__ __forceinline__ ${T} NAME(${T} x) {
  if (x >= ${k(0)}) return ${k(1)} / (${k(1)} + ${f('exp')}(-x));
  const ${T} e = ${f('exp')}(x);
  return e / (${k(1)} + e);
}`),
  softplus: (t: 'float' | 'double') =>
    typed('lathe_softplus', t, (T, f, k) => `// log(1 + e^x) without overflow for large x.
__device__ __forceinline__ ${T} NAME(${T} x) {
  return x > ${k(0)} ? x + ${f('log1p')}(${f('exp')}(-x)) : ${f('log1p')}(${f('exp')}(x));
}`),
  // JavaScript's Math.pow, as the interpreter computes: a NaN exponent gives NaN and (±1)^±Inf is
  // NaN, where C's pow gives 1 for both.
  pow: (t: 'float' | 'double') =>
    typed('lathe_pow_js', t, (T, f, k) => `__device__ __forceinline__ ${T} NAME(${T} a, ${T} b) {
  if (b != b) return b;
  if (${f('fabs')}(a) == ${k(1)} && ${f('fabs')}(b) == ${k(Infinity)}) return ${k(NaN)};
  return ${f('pow')}(a, b);
}`),
  // ONNX Mod with fmod=0 on integers: the remainder takes the divisor's sign (Python's %).
  modFloorInt: (T: string) => `__device__ __forceinline__ ${T} lathe_mod_floor_${T}(${T} a, ${T} b) {
  // x mod 0 is 0 and x mod -1 is 0 (INT_MIN % -1 traps on x86).
  if (b == 0 || b == -1) return 0;
  const ${T} r = static_cast<${T}>(a % b);
  return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<${T}>(r + b) : r;
}`,
  maxF: (t: 'float' | 'double') =>
    typed('lathe_max_nan', t, (T) => `// max that propagates NaN from either side (numpy, ONNX Runtime).
__device__ __forceinline__ ${T} NAME(${T} a, ${T} b) { return (a != a || a >= b) ? a : b; }`),
  minF: (t: 'float' | 'double') =>
    typed('lathe_min_nan', t, (T) => `// min that propagates NaN from either side (numpy, ONNX Runtime).
__device__ __forceinline__ ${T} NAME(${T} a, ${T} b) { return (a != a || a <= b) ? a : b; }`),
  // Float → 8/16/32-bit integer as the interpreter stores it (ECMAScript ToInt32): truncate, NaN
  // and ±Inf give 0, the rest wraps modulo 2^32 (C leaves out-of-range conversions undefined).
  f2wrap32: `__device__ __forceinline__ uint32_t lathe_f2wrap32(double x) {
  if (!(fabs(x) < (double)INFINITY)) return 0u;
  const double t = trunc(x);
  if (fabs(t) < 9223372036854775808.0) return static_cast<uint32_t>(static_cast<uint64_t>(static_cast<int64_t>(t)));
  return static_cast<uint32_t>(static_cast<int64_t>(fmod(t, 4294967296.0)));
}`,
  // Float → 64-bit integer as the interpreter (and x86) does: NaN, ±Inf and |x| ≥ 2^64 give
  // INT64_MIN; otherwise trunc(x) modulo 2^64.
  f2wrap64: `__device__ __forceinline__ uint64_t lathe_f2wrap64(double x) {
  if (!(fabs(x) < 18446744073709551616.0)) return 0x8000000000000000ull;
  const double t = trunc(x);
  if (t >= 9223372036854775808.0) return static_cast<uint64_t>(t);
  if (t < -9223372036854775808.0) return static_cast<uint64_t>(t + 18446744073709551616.0);
  return static_cast<uint64_t>(static_cast<int64_t>(t));
}`,
  // i64/u64 Pow as the interpreter's BigInt: a negative exponent gives 1 for base 1, else 0; the
  // power wraps modulo 2^64 (square-and-multiply in unsigned arithmetic).
  powi64: `__device__ __forceinline__ uint64_t lathe_pow_wrap64(uint64_t a, uint64_t e, bool negative) {
  if (negative) return a == 1u ? 1u : 0u;
  uint64_t r = 1u;
  while (e != 0u) {
    if (e & 1u) r *= a;
    a *= a;
    e >>= 1;
  }
  return r;
}`,
};

// ---- op builders ----

/** A float-only unary op: `<libm>(x)`. */
const math = (name: string): CudaEwOp => ({ expr: (a, e) => `${fn(name, fty(e))}(${a[0]})`, floatOnly: true });
/** A float-only op built from the float type. */
const fop = (g: (x: string, t: 'float' | 'double', e: CudaEwEnv, a: readonly (string | undefined)[]) => string): CudaEwOp => ({
  expr: (a, e) => g(a[0]!, fty(e), e, a),
  floatOnly: true,
});
const cmp = (op: string): CudaEwOp => ({ expr: (a) => `(${a[0]} ${op} ${a[1]})` });
/** An arithmetic op: float expression, or wrapping unsigned arithmetic on integers. */
const arith = (op: string): CudaEwOp => ({ expr: (a, e) => (isF(e) ? `(${a[0]} ${op} ${a[1]})` : wrap(ty(e.inTypes[0]), a[0]!, op, a[1]!)) });

function fold(a: readonly (string | undefined)[], g: (x: string, y: string) => string): string {
  let acc = a[0]!;
  for (let i = 1; i < a.length; i++) acc = g(acc, a[i]!);
  return acc;
}

/** f16/bf16 partial results of a variadic op are rounded as the interpreter's pairwise steps are. */
function roundPartial(v: string, d: DType, e: CudaEwEnv): string {
  if (d !== 'f16' && d !== 'bf16') return v;
  e.helper(ROUND[d]);
  return `lathe_round_${d}(${v})`;
}

export const ROUND = {
  f16: '__device__ __forceinline__ float lathe_round_f16(float x) { return __half2float(__float2half_rn(x)); }',
  bf16: '__device__ __forceinline__ float lathe_round_bf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }',
} as const;

/**
 * A value of dtype `src` (in its compute type) as dtype `to`'s compute type, as Cast does.
 * `saturate` (Cast's attribute, default 1): the interpreter clamps f16/bf16 results that round
 * past the largest finite value (Inf included) to ±max, where plain rounding gives ±Inf.
 */
export function castExpr(v: string, src: DType, to: DType, helper: (code: string) => void, saturate = false): string {
  if (src === to) return v;
  const T = ctypeOf(to);
  if (to === 'bool') return `(${v} != 0)`;
  if (src === 'bool') return `static_cast<${T}>(${v})`;
  if (isFloatType(to)) {
    // i64/u64 → f32 rounds through double, as the interpreter's Number(bigint) does.
    const f = INT_BITS[src] === 64 && T === 'float' ? `static_cast<float>(static_cast<double>(${v}))` : `static_cast<${T}>(${v})`;
    if (saturate && (to === 'f16' || to === 'bf16')) {
      helper(SATURATE[to]);
      return `lathe_round_sat_${to}(${f})`;
    }
    return f;
  }
  if (isFloatType(src)) {
    const wide = INT_BITS[to] === 64;
    helper(wide ? H.f2wrap64 : H.f2wrap32);
    return `static_cast<${T}>(${wide ? 'lathe_f2wrap64' : 'lathe_f2wrap32'}(static_cast<double>(${v})))`;
  }
  return `static_cast<${T}>(${v})`; // integer → integer wraps as C does
}

const SATURATE = {
  f16: `__device__ __forceinline__ float lathe_round_sat_f16(float x) {
  const float r = __half2float(__float2half_rn(x));
  return fabsf(r) == INFINITY ? copysignf(65504.0f, r) : r;
}`,
  bf16: `__device__ __forceinline__ float lathe_round_sat_bf16(float x) {
  const float r = __bfloat162float(__float2bfloat16_rn(x));
  return fabsf(r) == INFINITY ? copysignf(3.38953139e38f, r) : r;
}`,
} as const;

const castOp: CudaEwOp = { expr: (a, e) => castExpr(a[0]!, ty(e.inTypes[0]), e.outType, (h) => e.helper(h), e.int('saturate', 1) === 1) };

export const CUDA_EW_OPS: Record<string, CudaEwOp> = {
  // Unary math on floats.
  Sigmoid: fop((x, t, e) => (e.helper(H.sigmoid(t)), `${hname('lathe_sigmoid', t)}(${x})`)),
  Tanh: math('tanh'), Exp: math('exp'), Log: math('log'), Sqrt: math('sqrt'), Floor: math('floor'), Ceil: math('ceil'),
  Round: math('rint'), // rint rounds half to even in the default rounding mode, as ONNX's Round
  Sin: math('sin'), Cos: math('cos'), Tan: math('tan'), Asin: math('asin'), Acos: math('acos'), Atan: math('atan'),
  Sinh: math('sinh'), Cosh: math('cosh'), Asinh: math('asinh'), Acosh: math('acosh'), Atanh: math('atanh'),
  Erf: math('erf'),
  Reciprocal: fop((x, t) => `(${floatLit(1, t)} / ${x})`),
  Softsign: fop((x, t) => `(${x} / (${floatLit(1, t)} + ${fn('fabs', t)}(${x})))`),
  Softplus: fop((x, t, e) => (e.helper(H.softplus(t)), `${hname('lathe_softplus', t)}(${x})`)),
  Mish: fop((x, t, e) => (e.helper(H.softplus(t)), `(${x} * ${fn('tanh', t)}(${hname('lathe_softplus', t)}(${x})))`)),
  Elu: fop((x, t, e) => `(${x} < ${floatLit(0, t)} ? ${lit(e, e.float('alpha', 1))} * ${fn('expm1', t)}(${x}) : ${x})`),
  Selu: fop((x, t, e) => {
    const al = lit(e, e.float('alpha', 1.67326319217681884765625));
    const g = lit(e, e.float('gamma', 1.05070102214813232421875));
    return `(${x} <= ${floatLit(0, t)} ? ${g} * (${al} * ${fn('exp', t)}(${x}) - ${al}) : ${g} * ${x})`;
  }),
  // max(0, x) + min(0, α(e^(x/α) − 1)): the first term is x where x > 0 and the second is 0
  // there; NaN falls to the second, which stays NaN.
  Celu: fop((x, t, e) => {
    const al = lit(e, e.float('alpha', 1));
    return `(${x} > ${floatLit(0, t)} ? ${x} : ${al} * ${fn('expm1', t)}(${x} / ${al}))`;
  }),
  LeakyRelu: fop((x, t, e) => `(${x} < ${floatLit(0, t)} ? ${lit(e, e.float('alpha', 0.01))} * ${x} : ${x})`),
  // Clamps written with comparisons so NaN passes through (fminf/fmaxf would drop it).
  HardSigmoid: fop((x, t, e) => clamp01(`(${lit(e, e.float('alpha', 0.2))} * ${x} + ${lit(e, e.float('beta', 0.5))})`, t, e)),
  HardSwish: fop((x, t, e) => `(${x} * ${clamp01(`(${x} / ${floatLit(6, t)} + ${floatLit(0.5, t)})`, t, e)})`),
  ThresholdedRelu: fop((x, t, e) => `(${x} > ${lit(e, e.float('alpha', 1))} ? ${x} : ${floatLit(0, t)})`),
  Shrink: fop((x, t, e) => {
    const l = e.float('lambd', 0.5);
    const b = lit(e, e.float('bias', 0));
    return `(${x} < ${lit(e, -l)} ? ${x} + ${b} : (${x} > ${lit(e, l)} ? ${x} - ${b} : ${floatLit(0, t)}))`;
  }),
  Gelu: fop((x, t, e) => {
    const k = (v: number) => floatLit(v, t);
    if (e.string('approximate', 'none') === 'tanh') {
      return `(${k(0.5)} * ${x} * (${k(1)} + ${fn('tanh', t)}(${k(Math.sqrt(2 / Math.PI))} * (${x} + ${k(0.044715)} * ${x} * ${x} * ${x}))))`;
    }
    return `(${k(0.5)} * ${x} * (${k(1)} + ${fn('erf', t)}(${x} * ${k(Math.SQRT1_2)})))`;
  }),
  SiLU: fop((x, t) => `(${x} / (${floatLit(1, t)} + ${fn('exp', t)}(-${x})))`),
  IsNaN: fop((x) => `(${x} != ${x})`),
  IsInf: fop((x, _t, e) => {
    const tests = [e.int('detect_positive', 1) === 1 ? `${x} == INFINITY` : '', e.int('detect_negative', 1) === 1 ? `${x} == -INFINITY` : ''].filter(Boolean);
    return tests.length ? `(${tests.join(' || ')})` : 'false';
  }),
  // Sign-agnostic unary ops (floats and integers).
  Abs: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (isFloatType(d)) return `${fn('fabs', fty(e))}(${a[0]})`;
      if (UNSIGNED.has(d)) return a[0]!;
      return `(${a[0]} < 0 ? ${wrap(d, '0', '-', a[0]!)} : ${a[0]})`;
    },
  },
  Neg: { expr: (a, e) => (isF(e) ? `(-${a[0]})` : wrap(ty(e.inTypes[0]), '0', '-', a[0]!)) },
  Sign: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (isFloatType(d)) return `(${a[0]} > ${lit(e, 0)} ? ${lit(e, 1)} : (${a[0]} < ${lit(e, 0)} ? ${lit(e, -1)} : ${a[0]}))`; // NaN, ±0 stay
      if (UNSIGNED.has(d)) return `(${a[0]} > 0 ? 1 : 0)`;
      return `((${a[0]} > 0) - (${a[0]} < 0))`;
    },
  },
  Relu: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (isFloatType(d)) return `(${a[0]} > ${lit(e, 0)} || ${a[0]} != ${a[0]} ? ${a[0]} : ${lit(e, 0)})`; // NaN stays NaN
      if (UNSIGNED.has(d)) return a[0]!;
      return `(${a[0]} > 0 ? ${a[0]} : 0)`;
    },
  },
  Not: { expr: (a) => `(!${a[0]})` },
  // Binary arithmetic.
  Add: arith('+'),
  Sub: arith('-'),
  Mul: arith('*'),
  // Integer division truncates; by zero it gives 0 (the interpreter's choice), INT_MIN / -1 wraps.
  Div: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (isFloatType(d)) return `(${a[0]} / ${a[1]})`;
      const T = ctypeOf(d);
      if (UNSIGNED.has(d)) return `(${a[1]} == 0 ? static_cast<${T}>(0) : static_cast<${T}>(${a[0]} / ${a[1]}))`;
      return `(${a[1]} == 0 ? static_cast<${T}>(0) : ${a[1]} == -1 ? ${wrap(d, '0', '-', a[0]!)} : static_cast<${T}>(${a[0]} / ${a[1]}))`;
    },
  },
  Mod: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      const fmod = e.int('fmod', 0) === 1;
      if (isFloatType(d)) {
        if (!fmod) e.fail('Mod on floats needs fmod=1');
        return `${fn('fmod', fty(e))}(${a[0]}, ${a[1]})`;
      }
      const T = ctypeOf(d);
      if (UNSIGNED.has(d)) return `(${a[1]} == 0 ? static_cast<${T}>(0) : static_cast<${T}>(${a[0]} % ${a[1]}))`;
      if (fmod) return `(${a[1]} == 0 || ${a[1]} == -1 ? static_cast<${T}>(0) : static_cast<${T}>(${a[0]} % ${a[1]}))`;
      e.helper(H.modFloorInt(T));
      return `lathe_mod_floor_${T}(${a[0]}, ${a[1]})`;
    },
  },
  // The exponent may have another dtype than the base; the result has the base's.
  Pow: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      const bd = ty(e.inTypes[1]);
      if (isFloatType(d)) {
        const t = fty(e);
        e.helper(H.pow(t));
        return `${hname('lathe_pow_js', t)}(${a[0]}, ${castExpr(a[1]!, bd, t === 'float' ? 'f32' : 'f64', (h) => e.helper(h))})`;
      }
      if (INT_BITS[d] === 64) {
        e.helper(H.powi64);
        if (isFloatType(bd)) {
          e.helper(H.f2wrap64);
          const t = fty(e, 1);
          return `lathe_pow_wrap64(static_cast<uint64_t>(${a[0]}), lathe_f2wrap64(static_cast<double>(${a[1]})), ${fn('trunc', t)}(${a[1]}) < ${floatLit(0, t)})`;
        }
        const neg = UNSIGNED.has(bd) || bd === 'bool' ? 'false' : `${a[1]} < 0`;
        return `lathe_pow_wrap64(static_cast<uint64_t>(${a[0]}), static_cast<uint64_t>(${a[1]}), ${neg})`;
      }
      // Narrower integers: trunc(Math.pow(a, b)) in double, stored with wrapping.
      e.helper(H.pow('double'));
      e.helper(H.f2wrap32);
      const b = INT_BITS[bd] === 64 ? `static_cast<double>(${a[1]})` : `static_cast<double>(${a[1]})`;
      return `lathe_f2wrap32(lathe_pow_js_d(static_cast<double>(${a[0]}), ${b}))`;
    },
  },
  PRelu: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (isFloatType(d)) return `(${a[0]} < ${lit(e, 0)} ? ${a[1]} * ${a[0]} : ${a[0]})`;
      if (UNSIGNED.has(d)) return a[0]!;
      return `(${a[0]} < 0 ? ${wrap(d, a[1]!, '*', a[0]!)} : ${a[0]})`;
    },
  },
  // Logic on bool (compute type bool).
  And: { expr: (a) => `(${a[0]} && ${a[1]})` },
  Or: { expr: (a) => `(${a[0]} || ${a[1]})` },
  Xor: { expr: (a) => `(${a[0]} != ${a[1]})` },
  Equal: cmp('=='), Greater: cmp('>'), Less: cmp('<'), GreaterOrEqual: cmp('>='), LessOrEqual: cmp('<='),
  // Unsigned integers only; a shift by the width or more gives 0 (C leaves it undefined).
  BitShift: {
    expr: (a, e) => {
      const d = ty(e.inTypes[0]);
      if (!UNSIGNED.has(d)) e.fail(`BitShift on ${d} (unsigned integers only)`);
      const T = ctypeOf(d);
      const bits = INT_BITS[d]!;
      const op = e.string('direction') === 'LEFT' ? '<<' : '>>';
      return `(${a[1]} >= ${bits}u ? static_cast<${T}>(0) : static_cast<${T}>(static_cast<${wideU(d)}>(${a[0]}) ${op} ${a[1]}))`;
    },
  },
  // Variadic: folded pairwise, as the interpreter does (wrapping and rounding each partial).
  Sum: { expr: (a, e) => fold(a, (x, y) => roundPartial(arith('+').expr([x, y], e), e.outType, e)) },
  Mean: {
    expr: (a, e) => {
      const sum = fold(a, (x, y) => roundPartial(arith('+').expr([x, y], e), e.outType, e));
      if (isF(e)) return `(${sum} / ${lit(e, a.length)})`;
      const T = ctypeOf(ty(e.inTypes[0]));
      return `static_cast<${T}>(${sum} / static_cast<${T}>(${a.length}))`;
    },
  },
  Max: { expr: (a, e) => minMax(a, e, 'max') },
  Min: { expr: (a, e) => minMax(a, e, 'min') },
  Where: { expr: (a) => `(${a[0]} ? ${a[1]} : ${a[2]})` },
  // Clip: min(max(x, lo), hi) so lo > hi gives hi; bounds are operands from opset 11 and
  // attributes before; an omitted bound is no bound. Comparisons keep NaN.
  Clip: {
    expr: (a, e) => {
      let lo = a[1];
      let hi = a[2];
      if (e.opset < 11) {
        const l = e.float('min', -Infinity);
        const h = e.float('max', Infinity);
        if (Number.isNaN(l) || Number.isNaN(h)) e.fail('Clip bounds must not be NaN');
        lo = l === -Infinity ? undefined : lit(e, l);
        hi = h === Infinity ? undefined : lit(e, h);
      }
      let v = a[0]!;
      if (lo !== undefined) v = `(${v} < ${lo} ? ${lo} : ${v})`;
      if (hi !== undefined) v = `(${v} > ${hi} ? ${hi} : ${v})`;
      return v;
    },
  },
  Cast: castOp,
  CastLike: castOp,
};

function clamp01(v: string, t: 'float' | 'double', _e: CudaEwEnv): string {
  const k = (x: number) => floatLit(x, t);
  return `(${v} < ${k(0)} ? ${k(0)} : (${v} > ${k(1)} ? ${k(1)} : ${v}))`;
}

function minMax(a: readonly (string | undefined)[], e: CudaEwEnv, which: 'max' | 'min'): string {
  const d = ty(e.inTypes[0]);
  if (isFloatType(d)) {
    const t = fty(e);
    e.helper(which === 'max' ? H.maxF(t) : H.minF(t));
    return fold(a, (x, y) => roundPartial(`${hname(`lathe_${which}_nan`, t)}(${x}, ${y})`, e.outType, e));
  }
  const op = which === 'max' ? '>=' : '<=';
  return fold(a, (x, y) => `(${x} ${op} ${y} ? ${x} : ${y})`);
}

/** lathe-domain ops with the same meaning as an entry above. */
export const CUDA_LATHE_EW_OPS: Record<string, CudaEwOp> = { Gelu: CUDA_EW_OPS.Gelu!, SiLU: CUDA_EW_OPS.SiLU! };

/** Operands that are elementwise data (CastLike's second operand gives only its dtype). */
export function dataOperands(op: string, n: number): number[] {
  if (op === 'CastLike') return [0];
  return Array.from({ length: n }, (_, i) => i);
}
