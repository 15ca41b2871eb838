// Cast and CastLike between every dtype lathe holds. Float → integer truncates toward zero;
// i64/u64 go through BigInt so large values stay exact; narrow floats round to nearest even
// (fp8 with ONNX's `saturate`); strings parse and print numbers as ONNX Runtime does.
import type { DType } from '../../dtype.ts';
import { DTYPES, dtypeFromOnnx, isFloat } from '../../dtype.ts';
import { narrowFormat, roundArray } from '../float.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor } from '../tensor.ts';
import type { AnyArray } from './util.ts';

const INT64_MIN = -(2n ** 63n);

/** A float to BigInt the way x86 conversion does: NaN, Inf and overflow give INT64_MIN. */
function floatToBig(x: number): bigint {
  if (!Number.isFinite(x) || Math.abs(x) >= 2 ** 64) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/** A number the way numpy prints a float32/float64 (shortest round-trip form). */
function formatFloat(x: number, dtype: DType): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'INF';
  if (x === -Infinity) return '-INF';
  if (dtype === 'f64') return String(x);
  // Shortest decimal that reads back as the same f32.
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  return Number(t);
}

export function cast(t: Tensor, to: DType, saturate = true): Tensor {
  const from = t.dtype;
  if (from === to) return t;
  const src = t.data as AnyArray;
  const n = src.length;
  const out = allocData(to, n) as AnyArray;
  const toBig = isBigDType(to);
  const fromBig = isBigDType(from);
  if (to === 'string') {
    for (let i = 0; i < n; i++) out[i] = isFloat(from) ? formatFloat(src[i], from) : String(src[i]);
  } else if (from === 'string') {
    for (let i = 0; i < n; i++) {
      const s = src[i] as string;
      if (toBig) out[i] = BigInt(s.trim());
      else if (to === 'bool') out[i] = parseNumber(s) !== 0 ? 1 : 0;
      else out[i] = isFloat(to) ? parseNumber(s) : Math.trunc(parseNumber(s));
    }
  } else if (to === 'bool') {
    for (let i = 0; i < n; i++) out[i] = fromBig ? (src[i] !== 0n ? 1 : 0) : src[i] !== 0 ? 1 : 0;
  } else if (toBig) {
    for (let i = 0; i < n; i++) out[i] = fromBig ? src[i] : isFloat(from) ? floatToBig(src[i]) : BigInt(src[i]);
  } else if (fromBig) {
    // Wrap to the target width exactly before leaving BigInt (Number() would round above 2^53).
    const bits = DTYPES[to].bits;
    const signed = DTYPES[to].cls === 'int';
    for (let i = 0; i < n; i++) {
      const v = src[i] as bigint;
      out[i] = isFloat(to) ? Number(v) : Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
    }
  } else if (isFloat(to)) {
    for (let i = 0; i < n; i++) out[i] = src[i];
  } else if (to === 'i4' || to === 'u4') {
    // 4-bit targets clamp (ONNX defines saturation for them), other integers wrap as C does.
    const [lo, hi] = to === 'i4' ? [-8, 7] : [0, 15];
    for (let i = 0; i < n; i++) out[i] = Math.min(hi, Math.max(lo, Math.trunc(src[i])));
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.trunc(src[i]);
  }
  const f = narrowFormat(to);
  if (f) roundArray(out as Float32Array, f, saturate);
  return makeTensor(to, t.shape, out as Data);
}

defineOnnxEvals(['Cast'], (ctx) => {
  const to = dtypeFromOnnx(ctx.int('to'));
  if (typeof to !== 'string') throw evalError(`Cast to ${to.unsupported}`);
  return [cast(ctx.tensor(0), to, ctx.int('saturate', 1) === 1)];
});
defineOnnxEvals(['CastLike'], (ctx) => [cast(ctx.tensor(0), ctx.tensor(1).dtype, ctx.int('saturate', 1) === 1)]);
