// Elementwise ops as WGSL expressions: one entry per op, giving the expression of the result from
// the operand expressions. The same table serves a single node's kernel and a fused chain (and,
// later, matmul/reduction prologues and epilogues): the caller decides where operands come from.
// Values are computed in f32 (every float, f16 included), i32 (signed ints, bool as 0/1, i64 as
// the i32 the device stores) or u32 (u16, u32).
import type { AttrReader } from '../../../ir/attr-reader.ts';
import type { DType } from '../../../ir/dtype.ts';
import { isFloat } from '../../../ir/dtype.ts';

export type CType = 'f32' | 'i32' | 'u32';

export function ctypeOf(d: DType): CType {
  if (isFloat(d)) return 'f32';
  return d === 'u32' || d === 'u16' || d === 'u64' ? 'u32' : 'i32';
}

/** What an op's expression may ask of the kernel it is placed in. */
export interface EwEnv extends AttrReader {
  readonly opset: number;
  /** Operand dtypes and the result dtype. */
  readonly inTypes: readonly (DType | undefined)[];
  readonly outType: DType;
  /** A run-time f32 constant (attribute value): returns the WGSL expression reading it. */
  param(value: number): string;
  /** Require a WGSL helper function (by its text; deduplicated). */
  helper(code: string): void;
}

export interface EwOp {
  /** WGSL expression of the result; `a[i]` is undefined for an omitted optional operand. */
  expr(a: readonly (string | undefined)[], e: EwEnv): string;
  /** Dtypes this op is defined on in WGSL (defaults to f32 + integer types held in i32/u32). */
  floatOnly?: boolean;
}

const H = {
  isnan: 'fn ew_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
  // Avoids exp overflow (tanh(±large) is NaN on some drivers when written as a ratio of exps).
  tanh: 'fn ew_tanh(x: f32) -> f32 { if (abs(x) > 10.0) { return sign(x); } return tanh(x); }',
  sigmoid: 'fn ew_sigmoid(x: f32) -> f32 { if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); } let e = exp(x); return e / (1.0 + e); }',
  // log(1+x) keeping precision for tiny x (Goldberg's trick), as the interpreter's log1p does.
  log1p: 'fn ew_log1p(x: f32) -> f32 { let u = 1.0 + x; if (u == 1.0) { return x; } return log(u) * x / (u - 1.0); }',
  softplus: 'fn ew_softplus(x: f32) -> f32 { if (x > 0.0) { return x + ew_log1p(exp(-x)); } return ew_log1p(exp(x)); }',
  // erf: Maclaurin series below 1 (relative accuracy where erf is small), Abramowitz–Stegun 7.1.26
  // above (|error| < 1.5e-7 where erf ≥ 0.84).
  erf: `fn ew_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) {
    let z = a * a;
    var term = a;
    var sum = a;
    for (var n = 1; n < 13; n++) {
      term = -term * z / f32(n);
      sum += term / f32(2 * n + 1);
    }
    return sign(x) * 1.1283791670955126 * sum;
  }
  if (a >= 6.0) { return sign(x); }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - p * exp(-a * a));
}`,
  maxf: 'fn ew_maxf(a: f32, b: f32) -> f32 { if (ew_isnan(a) || a >= b) { return a; } return b; }',
  minf: 'fn ew_minf(a: f32, b: f32) -> f32 { if (ew_isnan(a) || a <= b) { return a; } return b; }',
  // pow for any base: a negative base with an integral exponent keeps its sign (WGSL's pow is
  // undefined for x < 0), b = 0 gives 1 even for a = 0.
  // A NaN read from a private variable: WGSL rejects NaN in constant expressions.
  powf: `var<private> ew_nan_bits: u32 = 0x7fc00000u;
fn ew_powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (floor(b) != b) { return bitcast<f32>(ew_nan_bits); }
  let r = pow(-a, b);
  if (fract(b * 0.5) != 0.0) { return -r; }
  return r;
}`,
  powi: `fn ew_powi(a: i32, b: i32) -> i32 {
  if (b < 0) { if (a == 1) { return 1; } if (a == -1) { return select(1, -1, (b & 1) != 0); } return 0; }
  var r = 1; var x = a; var e = b;
  while (e > 0) { if ((e & 1) != 0) { r *= x; } x *= x; e = e >> 1u; }
  return r;
}`,
  fmodFloor: 'fn ew_fmod_floor(a: f32, b: f32) -> f32 { if (b == 0.0) { return 0.0; } let r = a - b * trunc(a / b); if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { return r + b; } return r; }',
  imodFloor: 'fn ew_imod_floor(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } let r = a % b; if (r != 0 && ((r < 0) != (b < 0))) { return r + b; } return r; }',
};

const f = (fn: string): EwOp => ({ expr: (a) => `${fn}(${a[0]})`, floatOnly: true });
const withHelper = (h: readonly string[], fn: (a: readonly (string | undefined)[], e: EwEnv) => string, floatOnly = true): EwOp => ({
  expr: (a, e) => {
    h.forEach((x) => e.helper(x));
    return fn(a, e);
  },
  floatOnly,
});
const zero = (e: EwEnv, i = 0) => (ctypeOf(e.inTypes[i] ?? e.outType) === 'f32' ? '0.0' : ctypeOf(e.inTypes[i] ?? e.outType) === 'u32' ? '0u' : '0i');
const isF = (e: EwEnv, i = 0) => ctypeOf(e.inTypes[i] ?? 'f32') === 'f32';
const cmp = (op: string): EwOp => ({ expr: (a) => `i32(${a[0]} ${op} ${a[1]})` });

/** Fold a variadic op over its operands. */
function fold(a: readonly (string | undefined)[], g: (x: string, y: string) => string): string {
  let acc = a[0]!;
  for (let i = 1; i < a.length; i++) acc = g(acc, a[i]!);
  return acc;
}

/** Integer narrowing for Cast: i32/u32 bits → the target's range (wrapping as C does). */
function narrow(v: string, to: DType): string {
  switch (to) {
    case 'u8': return `(${v} & 255)`;
    case 'i8': return `((${v} << 24u) >> 24u)`;
    case 'i16': return `((${v} << 16u) >> 16u)`;
    case 'u16': return `(${v} & 0xffffu)`;
    default: return v;
  }
}

function castExpr(v: string, from: CType, to: DType): string {
  if (to === 'bool') return `i32(${v} != ${from === 'f32' ? '0.0' : from === 'u32' ? '0u' : '0i'})`;
  const ct = ctypeOf(to);
  if (ct === 'f32') return from === 'f32' ? v : `f32(${v})`;
  if (ct === 'i32') return narrow(from === 'i32' ? v : from === 'u32' ? `bitcast<i32>(${v})` : `i32(${v})`, to);
  // A negative float wraps to u32 as C does through a signed integer.
  return narrow(from === 'u32' ? v : from === 'i32' ? `bitcast<u32>(${v})` : `select(u32(${v}), bitcast<u32>(i32(${v})), ${v} < 0.0)`, to);
}

export const EW_OPS: Record<string, EwOp> = {
  // Unary math on floats.
  Sigmoid: withHelper([H.sigmoid], (a) => `ew_sigmoid(${a[0]})`),
  Tanh: withHelper([H.tanh], (a) => `ew_tanh(${a[0]})`),
  Exp: f('exp'), Log: f('log'), Sqrt: f('sqrt'), Floor: f('floor'), Ceil: f('ceil'),
  Round: f('round'), // WGSL's round is half-to-even, as ONNX's
  Sin: f('sin'), Cos: f('cos'), Tan: f('tan'), // lavapipe's asin/acos are off by ~1e-4 relative; atan2 over sqrt((1−x)(1+x)) is not.
  Asin: { expr: (a) => `atan2(${a[0]}, sqrt((1.0 - ${a[0]}) * (1.0 + ${a[0]})))`, floatOnly: true },
  Acos: { expr: (a) => `atan2(sqrt((1.0 - ${a[0]}) * (1.0 + ${a[0]})), ${a[0]})`, floatOnly: true }, Atan: f('atan'),
  Sinh: f('sinh'), Cosh: f('cosh'), Asinh: f('asinh'), Acosh: f('acosh'), Atanh: f('atanh'),
  Reciprocal: { expr: (a) => `(1.0 / ${a[0]})`, floatOnly: true },
  Erf: withHelper([H.erf], (a) => `ew_erf(${a[0]})`),
  Softsign: { expr: (a) => `(${a[0]} / (1.0 + abs(${a[0]})))`, floatOnly: true },
  Softplus: withHelper([H.log1p, H.softplus], (a) => `ew_softplus(${a[0]})`),
  Mish: withHelper([H.log1p, H.softplus, H.tanh], (a) => `(${a[0]} * ew_tanh(ew_softplus(${a[0]})))`),
  Elu: withHelper([], (a, e) => `select(${a[0]}, ${e.param(e.float('alpha', 1))} * (exp(${a[0]}) - 1.0), ${a[0]} < 0.0)`),
  Selu: withHelper([], (a, e) => {
    const al = e.param(e.float('alpha', 1.67326319217681884765625));
    const g = e.param(e.float('gamma', 1.05070102214813232421875));
    return `select(${g} * ${a[0]}, ${g} * (${al} * exp(${a[0]}) - ${al}), ${a[0]} <= 0.0)`;
  }),
  Celu: withHelper([], (a, e) => {
    const al = e.param(e.float('alpha', 1));
    return `(max(0.0, ${a[0]}) + min(0.0, ${al} * (exp(${a[0]} / ${al}) - 1.0)))`;
  }),
  LeakyRelu: withHelper([], (a, e) => `select(${a[0]}, ${e.param(e.float('alpha', 0.01))} * ${a[0]}, ${a[0]} < 0.0)`),
  HardSigmoid: withHelper([], (a, e) => `clamp(${e.param(e.float('alpha', 0.2))} * ${a[0]} + ${e.param(e.float('beta', 0.5))}, 0.0, 1.0)`),
  HardSwish: { expr: (a) => `(${a[0]} * clamp(${a[0]} / 6.0 + 0.5, 0.0, 1.0))`, floatOnly: true },
  ThresholdedRelu: withHelper([], (a, e) => `select(0.0, ${a[0]}, ${a[0]} > ${e.param(e.float('alpha', 1))})`),
  Shrink: withHelper([], (a, e) => {
    const l = e.param(e.float('lambd', 0.5));
    const b = e.param(e.float('bias', 0));
    return `select(select(0.0, ${a[0]} - ${b}, ${a[0]} > ${l}), ${a[0]} + ${b}, ${a[0]} < -${l})`;
  }),
  Gelu: withHelper([H.erf, H.tanh], (a, e) =>
    e.string('approximate', 'none') === 'tanh'
      ? `(0.5 * ${a[0]} * (1.0 + ew_tanh(0.7978845608028654 * (${a[0]} + 0.044715 * ${a[0]} * ${a[0]} * ${a[0]}))))`
      : `(0.5 * ${a[0]} * (1.0 + ew_erf(${a[0]} * 0.7071067811865476)))`,
  ),
  SiLU: withHelper([H.sigmoid], (a) => `(${a[0]} * ew_sigmoid(${a[0]}))`),
  IsNaN: withHelper([H.isnan], (a) => `i32(ew_isnan(${a[0]}))`),
  IsInf: withHelper([], (a, e) => {
    const pos = e.int('detect_positive', 1) === 1;
    const neg = e.int('detect_negative', 1) === 1;
    const bits = `bitcast<u32>(${a[0]})`;
    const tests = [pos ? `${bits} == 0x7f800000u` : '', neg ? `${bits} == 0xff800000u` : ''].filter(Boolean);
    return tests.length ? `i32(${tests.join(' || ')})` : '0i';
  }),
  // Sign-agnostic unary ops (floats and integers).
  Abs: { expr: (a) => `abs(${a[0]})` },
  Neg: { expr: (a) => `(-${a[0]})` },
  Sign: { expr: (a) => `sign(${a[0]})` },
  Relu: { expr: (a, e) => `select(${a[0]}, ${zero(e)}, ${a[0]} < ${zero(e)})` },
  Not: { expr: (a) => `i32(${a[0]} == 0i)` },
  // Binary arithmetic.
  Add: { expr: (a) => `(${a[0]} + ${a[1]})` },
  Sub: { expr: (a) => `(${a[0]} - ${a[1]})` },
  Mul: { expr: (a) => `(${a[0]} * ${a[1]})` },
  // Integer division by zero gives 0 (the interpreter's choice), not WGSL's x/0 = x.
  Div: { expr: (a, e) => (isF(e) ? `(${a[0]} / ${a[1]})` : `select(${a[0]} / ${a[1]}, ${zero(e)}, ${a[1]} == ${zero(e)})`) },
  Mod: withHelper([], (a, e) => {
    const fmod = e.int('fmod', 0) === 1;
    if (isF(e)) {
      if (fmod) return `(${a[0]} - ${a[1]} * trunc(${a[0]} / ${a[1]}))`;
      e.helper(H.fmodFloor);
      return `ew_fmod_floor(${a[0]}, ${a[1]})`;
    }
    if (fmod || ctypeOf(e.inTypes[0]!) === 'u32') return `select(${a[0]} % ${a[1]}, ${zero(e)}, ${a[1]} == ${zero(e)})`;
    e.helper(H.imodFloor);
    return `ew_imod_floor(${a[0]}, ${a[1]})`;
  }, false),
  Pow: withHelper([], (a, e) => {
    const bt = ctypeOf(e.inTypes[1]!);
    if (isF(e)) {
      e.helper(H.powf);
      return `ew_powf(${a[0]}, ${bt === 'f32' ? a[1] : `f32(${a[1]})`})`;
    }
    if (ctypeOf(e.inTypes[0]!) !== 'i32') return `i32(trunc(pow(f32(${a[0]}), f32(${a[1]}))))`;
    e.helper(H.powi);
    return `ew_powi(${a[0]}, ${bt === 'f32' ? `i32(trunc(${a[1]}))` : bt === 'u32' ? `i32(${a[1]})` : a[1]})`;
  }, false),
  PRelu: { expr: (a, e) => `select(${a[0]}, ${a[1]} * ${a[0]}, ${a[0]} < ${zero(e)})` },
  And: { expr: (a) => `(${a[0]} & ${a[1]})` },
  Or: { expr: (a) => `(${a[0]} | ${a[1]})` },
  Xor: { expr: (a) => `(${a[0]} ^ ${a[1]})` },
  Equal: cmp('=='), Greater: cmp('>'), Less: cmp('<'), GreaterOrEqual: cmp('>='), LessOrEqual: cmp('<='),
  // Variadic.
  Sum: { expr: (a) => fold(a, (x, y) => `(${x} + ${y})`) },
  Mean: { expr: (a, e) => `(${fold(a, (x, y) => `(${x} + ${y})`)} / ${isF(e) ? `${a.length}.0` : `${a.length}i`})` },
  Max: withHelper([], (a, e) => {
    if (!isF(e)) return fold(a, (x, y) => `max(${x}, ${y})`);
    e.helper(H.isnan);
    e.helper(H.maxf);
    return fold(a, (x, y) => `ew_maxf(${x}, ${y})`);
  }, false),
  Min: withHelper([], (a, e) => {
    if (!isF(e)) return fold(a, (x, y) => `min(${x}, ${y})`);
    e.helper(H.isnan);
    e.helper(H.minf);
    return fold(a, (x, y) => `ew_minf(${x}, ${y})`);
  }, false),
  Where: { expr: (a) => `select(${a[2]}, ${a[1]}, ${a[0]} != 0i)` },
  // Clip: min(max(x, lo), hi) so lo > hi gives hi; bounds are operands from opset 11 and
  // attributes before, an omitted bound is ±∞ (a run-time constant: WGSL has no ∞ literal).
  Clip: withHelper([], (a, e) => {
    const f = isF(e);
    let lo = a[1];
    let hi = a[2];
    if (e.opset < 11) {
      lo = e.param(e.float('min', -Infinity));
      hi = e.param(e.float('max', Infinity));
    }
    let v = a[0]!;
    if (lo !== undefined) v = f ? `select(${v}, ${lo}, ${v} < ${lo})` : `max(${v}, ${lo})`;
    if (hi !== undefined) v = `min(${v}, ${hi})`;
    return v;
  }, false),
  Cast: withHelper([], (a, e) => castExpr(a[0]!, ctypeOf(e.inTypes[0]!), e.outType), false),
  CastLike: withHelper([], (a, e) => castExpr(a[0]!, ctypeOf(e.inTypes[0]!), e.outType), false),
};

/** lathe-domain ops with the same meaning as an entry above. */
export const LATHE_EW_OPS: Record<string, EwOp> = { Gelu: EW_OPS.Gelu!, SiLU: EW_OPS.SiLU! };

/** Operands that are not elementwise data (CastLike's dtype source is read for its type only). */
export function dataOperands(op: string, n: number): number[] {
  if (op === 'CastLike') return [0];
  return Array.from({ length: n }, (_, i) => i);
}
