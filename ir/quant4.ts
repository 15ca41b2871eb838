// 4-bit quantization as lathe's SVDQuant ops define it (docs/svdquant.md): INT4 with f16/f32
// scales and NVFP4 (E2M1 codes, E4M3 scales). The interpreter's evaluators (Quantize4, Linear4)
// and the svdquant pass (weights, offline) both quantize with these functions, and the WGSL and
// CUDA kernels do the same arithmetic step for step, so all of them agree bit for bit: every
// step is one f32 operation (Math.fround after each), rounding is half to even.
import { decodeBits, FORMATS, roundToFormat } from './interp/float.ts';

export type Quant4Format = 'int4' | 'nvfp4';
export const QUANT4_FORMATS: readonly Quant4Format[] = ['int4', 'nvfp4'];

const f32 = Math.fround;
const E4M3 = FORMATS.f8e4m3fn!;
const F16 = FORMATS.f16!;

/** E2M1 magnitudes by code (bits 0–2); bit 3 is the sign. */
export const E2M1_VALUES: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6];

/** The E2M1 code nearest to v (ties to the even mantissa, saturating at ±6; zero codes +0). */
export function e2m1Code(v: number): number {
  const a = Math.abs(v);
  const m = a <= 0.25 ? 0 : a < 0.75 ? 1 : a <= 1.25 ? 2 : a < 1.75 ? 3 : a <= 2.5 ? 4 : a < 3.5 ? 5 : a <= 5 ? 6 : 7;
  return v < 0 && m !== 0 ? 8 | m : m;
}

export function e2m1Value(code: number): number {
  const m = E2M1_VALUES[code & 7]!;
  return code & 8 ? -m : m;
}

/** The E4M3 (fn) code of the value nearest to v ≥ 0 (ties to even, saturating at 448). */
export function e4m3Code(v: number): number {
  const r = roundToFormat(v, E4M3, true);
  if (r === 0) return 0;
  // Exponent and mantissa of r (a representable value): subnormals are m·2⁻⁹.
  if (r < 2 ** -6) return r / 2 ** -9;
  let e = Math.floor(Math.log2(r));
  if (2 ** e > r) e--;
  else if (2 ** (e + 1) <= r) e++;
  return ((e + 7) << 3) | (r / 2 ** (e - 3) - 8);
}

export function e4m3Value(code: number): number {
  return decodeBits(code & 0x7f, E4M3);
}

/** The f16 value nearest to an f32 (weights' INT4 scales are stored in f16). */
export function toF16(v: number): number {
  return roundToFormat(v, F16);
}

/** Round half to even of an f32 quotient, inlined for the hot loops (Math.round rounds ties up). */
function rint(t: number): number {
  const r = Math.round(t);
  return r - t === 0.5 && r & 1 ? r - 1 : r;
}

/** Two codes per byte, code 2b in the low nibble of byte b. */
export function packNibbles(codes: Int8Array | Uint8Array, out: Uint8Array, outOffset = 0): void {
  for (let b = 0; b < codes.length >> 1; b++) out[outOffset + b] = (codes[2 * b]! & 15) | ((codes[2 * b + 1]! & 15) << 4);
}

/** The signed value of a nibble (two's complement). */
export const signedNibble = (n: number): number => (n & 8 ? (n & 15) - 16 : n & 15);

export interface ActQuantSpec {
  readonly format: Quant4Format;
  readonly group: number;
  /** INT4 only: false for unsigned codes 0…15 (inputs known non-negative). */
  readonly signed: boolean;
}

/** K rounded up to whole groups: the packed layouts' length (the padding codes are 0). */
export const paddedK = (K: number, group: number): number => Math.ceil(K / group) * group;

/**
 * Quantize4 on rows of K values (docs/svdquant.md): `q` [rows, Kp/2] packed codes and `s`
 * [rows, Kp/group] f32 scales (nvfp4: the decoded E4M3 scale), Kp = K rounded up to whole groups,
 * the missing values read as 0.
 */
export function quantizeActivations(x: Float32Array | Float64Array, rows: number, K: number, spec: ActQuantSpec, invSmooth?: Float32Array): { q: Uint8Array; s: Float32Array } {
  const { format, group, signed } = spec;
  const Kp = paddedK(K, group);
  const groups = Kp / group;
  const q = new Uint8Array(rows * (Kp >> 1));
  const s = new Float32Array(rows * groups);
  const xh = new Float32Array(group);
  const codes = new Uint8Array(group);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const base = r * K + g * group;
      const len = Math.min(group, K - g * group);
      let a = 0;
      xh.fill(0);
      for (let i = 0; i < len; i++) {
        const v = invSmooth ? f32(x[base + i]! * invSmooth[g * group + i]!) : f32(x[base + i]!);
        xh[i] = v;
        const av = Math.abs(v);
        if (av > a) a = av;
      }
      let scale: number;
      if (format === 'int4') {
        scale = f32(a / (signed ? 7 : 15));
        const lo = signed ? -8 : 0;
        const hi = signed ? 7 : 15;
        for (let i = 0; i < group; i++) {
          const c = scale === 0 ? 0 : Math.min(hi, Math.max(lo, rint(f32(xh[i]! / scale))));
          codes[i] = c & 15;
        }
      } else {
        scale = e4m3Value(e4m3Code(f32(a / 6)));
        for (let i = 0; i < group; i++) codes[i] = scale === 0 ? 0 : e2m1Code(f32(xh[i]! / scale));
      }
      s[r * groups + g] = scale;
      packNibbles(codes, q, r * (Kp >> 1) + g * (group >> 1));
    }
  }
  return { q, s };
}

export interface QuantizedWeight {
  /** [N, Kp/2] packed signed codes, row n = output channel n (Kp: K in whole groups). */
  readonly q: Uint8Array;
  /** [N, Kp/group]: int4 the f16 scale values; nvfp4 E4M3 codes. */
  readonly s: Float32Array | Uint8Array;
  /** nvfp4's per-tensor scale (1 for int4). */
  readonly weightScale: number;
}

/** The scale value group (n, g) of a quantized weight multiplies its codes by. */
export function weightGroupScale(w: QuantizedWeight, format: Quant4Format, index: number): number {
  return format === 'int4' ? w.s[index]! : f32(e4m3Value(w.s[index]!) * w.weightScale);
}

/** NVFP4's per-tensor weight scale: absmax / (6 · 448), so group scales use E4M3's whole range. */
export function nvfp4TensorScale(w: Float32Array): number {
  let all = 0;
  for (let i = 0; i < w.length; i++) all = Math.max(all, Math.abs(w[i]!));
  return all === 0 ? 1 : f32(all / (6 * 448));
}

/**
 * Quantizes a weight given as [K, N] row-major (the layer's Y = X·W) into the Linear4 layout, and
 * returns the dequantized weight [K, N] (what the quantized layer multiplies by) if asked.
 * `tensorScale` (nvfp4) overrides the per-tensor scale, for quantizing some columns of a weight.
 */
export function quantizeWeight(w: Float32Array, K: number, N: number, format: Quant4Format, group: number, dequant?: Float32Array, tensorScale?: number): QuantizedWeight {
  const Kp = paddedK(K, group);
  const groups = Kp / group;
  const q = new Uint8Array(N * (Kp >> 1));
  const s = format === 'int4' ? new Float32Array(N * groups) : new Uint8Array(N * groups);
  const weightScale = format === 'nvfp4' ? (tensorScale ?? nvfp4TensorScale(w)) : 1;
  // Row-major walk (W is [K, N]): per group, the absmax and scale of every output channel, then
  // each row's codes; q is written a nibble at a time.
  const amax = new Float32Array(N);
  const scale = new Float32Array(N);
  const [even, odd] = [new Uint8Array(N), new Uint8Array(N)];
  for (let g = 0; g < groups; g++) {
    amax.fill(0);
    const end = Math.min(K, (g + 1) * group);
    for (let k = g * group; k < end; k++) {
      const row = k * N;
      for (let n = 0; n < N; n++) {
        const a = Math.abs(w[row + n]!);
        if (a > amax[n]!) amax[n] = a;
      }
    }
    for (let n = 0; n < N; n++) {
      if (format === 'int4') {
        scale[n] = toF16(f32(amax[n]! / 7));
        s[n * groups + g] = scale[n]!;
      } else {
        const code = e4m3Code(f32(f32(amax[n]! / 6) / weightScale));
        s[n * groups + g] = code;
        scale[n] = f32(e4m3Value(code) * weightScale);
      }
    }
    // Two rows at a time: each byte of q is written once.
    for (let k = g * group; k < end; k += 2) {
      const lo = codeRow(w, k * N, N, scale, format, even, dequant);
      const hi = k + 1 < end ? codeRow(w, (k + 1) * N, N, scale, format, odd, dequant) : odd.fill(0);
      const byte = k >> 1;
      for (let n = 0; n < N; n++) q[n * (Kp >> 1) + byte] = lo[n]! | (hi[n]! << 4);
    }
  }
  return { q, s, weightScale };
}

/**
 * The codes of one weight row (w[offset + n], n < N) with the per-channel scales, into `out`;
 * writes the dequantized row too if asked.
 */
function codeRow(w: Float32Array, offset: number, N: number, scale: Float32Array, format: Quant4Format, out: Uint8Array, dequant?: Float32Array): Uint8Array {
  if (format === 'int4') {
    for (let n = 0; n < N; n++) {
      const sc = scale[n]!;
      let c = 0;
      if (sc !== 0) {
        c = rint(f32(w[offset + n]! / sc));
        c = c < -8 ? -8 : c > 7 ? 7 : c;
      }
      out[n] = c & 15;
      if (dequant) dequant[offset + n] = f32(c * sc);
    }
  } else {
    for (let n = 0; n < N; n++) {
      const sc = scale[n]!;
      const c = sc === 0 ? 0 : e2m1Code(f32(w[offset + n]! / sc));
      out[n] = c;
      if (dequant) dequant[offset + n] = f32(e2m1Value(c) * sc);
    }
  }
  return out;
}

/** Dequantized activations [rows, K] from Quantize4's outputs (what Linear4 multiplies). */
export function dequantizeActivations(q: Uint8Array, s: Float32Array, rows: number, K: number, spec: ActQuantSpec): Float32Array {
  const out = new Float32Array(rows * K);
  const Kp = paddedK(K, spec.group);
  const groups = Kp / spec.group;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const byte = q[r * (Kp >> 1) + (k >> 1)]!;
      const nib = k & 1 ? byte >> 4 : byte & 15;
      const v = spec.format === 'nvfp4' ? e2m1Value(nib) : spec.signed ? signedNibble(nib) : nib;
      out[r * K + k] = f32(v * s[r * groups + Math.floor(k / spec.group)]!);
    }
  }
  return out;
}

/** Integer form of one code for the group dot products: INT4 as is, E2M1 doubled (exact). */
function codeTable(format: Quant4Format, signed: boolean): Int8Array {
  const t = new Int8Array(16);
  for (let n = 0; n < 16; n++) t[n] = format === 'nvfp4' ? e2m1Value(n) * 2 : signed ? signedNibble(n) : n;
  return t;
}

export interface Linear4Operands {
  readonly qx: Uint8Array;
  readonly sx: Float32Array;
  readonly qw: Uint8Array;
  /** [N, K/group]: f16 scale values (int4) or E4M3 codes (nvfp4). */
  readonly sw: ArrayLike<number>;
  readonly bias?: ArrayLike<number>;
  readonly weightScale: number;
}

/** Linear4 (docs/svdquant.md): Y [rows, N] in f32, groups accumulated in order; K is padded (whole groups). */
export function linear4(op: Linear4Operands, rows: number, K: number, N: number, spec: ActQuantSpec): Float32Array {
  const { format, group, signed } = spec;
  const groups = K / group;
  const xt = codeTable(format, signed);
  const wt = codeTable(format, true);
  // Unpack once: codes as small integers, rows contiguous along K.
  const xc = new Int8Array(rows * K);
  for (let i = 0; i < rows * K; i++) xc[i] = xt[(op.qx[i >> 1]! >> ((i & 1) << 2)) & 15]!;
  const wc = new Int8Array(N * K);
  for (let i = 0; i < N * K; i++) wc[i] = wt[(op.qw[i >> 1]! >> ((i & 1) << 2)) & 15]!;
  const swv = new Float32Array(N * groups);
  for (let i = 0; i < swv.length; i++) swv[i] = format === 'int4' ? op.sw[i]! : f32(e4m3Value(op.sw[i]!) * op.weightScale);
  const dot = format === 'nvfp4' ? 0.25 : 1; // E2M1 values were doubled on both sides
  const y = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let g = 0; g < groups; g++) {
        let d = 0;
        const xo = r * K + g * group;
        const wo = n * K + g * group;
        for (let i = 0; i < group; i++) d += xc[xo + i]! * wc[wo + i]!;
        acc = f32(acc + f32(f32(d * dot * op.sx[r * groups + g]!) * swv[n * groups + g]!));
      }
      y[r * N + n] = op.bias ? f32(acc + op.bias[n]!) : acc;
    }
  }
  return y;
}
