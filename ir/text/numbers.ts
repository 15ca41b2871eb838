// Exact text for tensor elements of every dtype. Floats print as the shortest decimal that reads
// back to the same bits (`-0.0`, `inf`, `nan`); a NaN other than the dtype's canonical one prints
// as its raw bits in hex. The narrow float types (f16, bf16, fp8, fp4) go through one table-driven
// codec: every code is decoded once, and encoding picks the nearest code (ties to even).
import type { DType } from '../dtype.ts';
import { DTYPES } from '../dtype.ts';

interface MiniFormat {
  bits: number;
  ebits: number;
  mbits: number;
  bias: number;
  /** ieee: inf and NaNs at the top exponent; fn: only S.1111.111 is NaN; fnuz: only -0's code is NaN. */
  special: 'ieee' | 'fn' | 'fnuz' | 'none';
}

const MINI: Partial<Record<DType, MiniFormat>> = {
  f16: { bits: 16, ebits: 5, mbits: 10, bias: 15, special: 'ieee' },
  bf16: { bits: 16, ebits: 8, mbits: 7, bias: 127, special: 'ieee' },
  f8e4m3fn: { bits: 8, ebits: 4, mbits: 3, bias: 7, special: 'fn' },
  f8e4m3fnuz: { bits: 8, ebits: 4, mbits: 3, bias: 8, special: 'fnuz' },
  f8e5m2: { bits: 8, ebits: 5, mbits: 2, bias: 15, special: 'ieee' },
  f8e5m2fnuz: { bits: 8, ebits: 5, mbits: 2, bias: 16, special: 'fnuz' },
  f4e2m1: { bits: 4, ebits: 2, mbits: 1, bias: 1, special: 'none' },
};

function miniDecode(f: MiniFormat, code: number): number {
  const signBit = 1 << (f.bits - 1);
  if (f.special === 'fnuz' && code === signBit) return NaN;
  const emask = (1 << f.ebits) - 1;
  const mmask = (1 << f.mbits) - 1;
  const e = (code >> f.mbits) & emask;
  const m = code & mmask;
  const neg = (code & signBit) !== 0;
  let v: number;
  if (f.special === 'ieee' && e === emask) v = m ? NaN : Infinity;
  else if (f.special === 'fn' && e === emask && m === mmask) v = NaN;
  else if (e === 0) v = m * 2 ** (1 - f.bias - f.mbits);
  else v = (1 + m / 2 ** f.mbits) * 2 ** (e - f.bias);
  return neg ? -v : v;
}

/** The canonical NaN code (what `nan` reads as), or undefined when the format has no NaN. */
function miniNaN(f: MiniFormat): number | undefined {
  const signBit = 1 << (f.bits - 1);
  switch (f.special) {
    case 'ieee': return ((1 << f.ebits) - 1) << f.mbits | (1 << (f.mbits - 1));
    case 'fn': return signBit - 1;
    case 'fnuz': return signBit;
    case 'none': return undefined;
  }
}

// Positive finite values by code: codes 0..max are contiguous and increasing in every format.
const tables = new Map<MiniFormat, Float64Array>();
function positiveTable(f: MiniFormat): Float64Array {
  let t = tables.get(f);
  if (!t) {
    const vals: number[] = [];
    for (let c = 0; c < 1 << (f.bits - 1); c++) {
      const v = miniDecode(f, c);
      if (!Number.isFinite(v)) break;
      vals.push(v);
    }
    t = Float64Array.from(vals);
    tables.set(f, t);
  }
  return t;
}

/** Encode a number to the nearest code; a message when it cannot be held. */
function miniEncode(f: MiniFormat, x: number): number | string {
  const signBit = 1 << (f.bits - 1);
  if (Number.isNaN(x)) return miniNaN(f) ?? 'the dtype has no NaN';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  const t = positiveTable(f);
  const max = t[t.length - 1]!;
  const halfUlp = (max - t[t.length - 2]!) / 2;
  let code: number;
  if (a > max) {
    if (f.special === 'ieee' && a >= max + halfUlp) code = t.length; // the inf code follows max
    else if (a < max + halfUlp) code = t.length - 1;
    else return `${x} is out of range (largest is ${max})`;
  } else {
    let lo = 0;
    let hi = t.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= a) lo = mid;
      else hi = mid;
    }
    const dl = a - t[lo]!;
    const dh = t[hi]! - a;
    code = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  }
  if (neg && !(f.special === 'fnuz' && code === 0)) code |= signBit;
  return code;
}

/** Shortest decimal that reads back as the same f32 (or f64), always with a dot or exponent. */
function floatText(v: number, single: boolean): string {
  if (Object.is(v, -0)) return '-0.0';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  let s = String(v);
  if (single) {
    // Fewest significant digits that read back to v (9 always do). Round-tripping is monotone
    // in the digit count, so a binary search finds it.
    let lo = 1;
    let hi = 9;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.fround(Number(v.toPrecision(mid))) === v) hi = mid;
      else lo = mid + 1;
    }
    s = String(Number(v.toPrecision(lo)));
  }
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

const hex = (bits: bigint | number, digits: number) => `0x${bits.toString(16).toUpperCase().padStart(digits, '0')}`;

/** A scalar float for attributes (a JS double): exact decimal, `inf`, `-inf`, `nan`. */
export function doubleText(v: number): string {
  return Number.isNaN(v) ? 'nan' : floatText(v, false);
}

/** Read element i of a packed little-endian buffer as text. */
export function elementText(dtype: DType, view: DataView, i: number): string {
  const mini = MINI[dtype];
  if (mini) {
    const code = readCode(view, i, mini.bits);
    const v = miniDecode(mini, code);
    if (Number.isNaN(v)) return code === miniNaN(mini) ? 'nan' : hex(code, mini.bits / 4);
    return floatText(v, false);
  }
  switch (dtype) {
    case 'f32': {
      const v = view.getFloat32(i * 4, true);
      const bits = view.getUint32(i * 4, true);
      if (Number.isNaN(v)) return bits === 0x7fc00000 ? 'nan' : hex(bits, 8);
      return floatText(v, true);
    }
    case 'f64': {
      const v = view.getFloat64(i * 8, true);
      const bits = view.getBigUint64(i * 8, true);
      if (Number.isNaN(v)) return bits === 0x7ff8000000000000n ? 'nan' : hex(bits, 16);
      return floatText(v, false);
    }
    case 'bool': {
      const b = view.getUint8(i);
      return b === 0 ? 'false' : b === 1 ? 'true' : String(b);
    }
    case 'i4': return String((readCode(view, i, 4) << 28) >> 28);
    case 'u4': return String(readCode(view, i, 4));
    case 'i8': return String(view.getInt8(i));
    case 'u8': return String(view.getUint8(i));
    case 'i16': return String(view.getInt16(i * 2, true));
    case 'u16': return String(view.getUint16(i * 2, true));
    case 'i32': return String(view.getInt32(i * 4, true));
    case 'u32': return String(view.getUint32(i * 4, true));
    case 'i64': return String(view.getBigInt64(i * 8, true));
    case 'u64': return String(view.getBigUint64(i * 8, true));
    default: throw new Error(`elementText: ${dtype} has no byte layout`);
  }
}

function readCode(view: DataView, i: number, bits: number): number {
  if (bits === 16) return view.getUint16(i * 2, true);
  if (bits === 8) return view.getUint8(i);
  const b = view.getUint8(i >> 1);
  return i % 2 === 0 ? b & 0xf : b >> 4;
}

function writeCode(view: DataView, i: number, bits: number, code: number): void {
  if (bits === 16) view.setUint16(i * 2, code, true);
  else if (bits === 8) view.setUint8(i, code);
  else {
    const b = view.getUint8(i >> 1);
    view.setUint8(i >> 1, i % 2 === 0 ? (b & 0xf0) | code : (b & 0x0f) | (code << 4));
  }
}

/** One element literal as the lexer saw it. */
export type ElementLit =
  | { kind: 'int'; text: string }
  | { kind: 'float'; text: string }
  | { kind: 'hex'; text: string }
  | { kind: 'bool'; value: boolean };

function floatValue(lit: ElementLit): number | undefined {
  if (lit.kind === 'int' || lit.kind === 'float') {
    if (lit.text === 'inf') return Infinity;
    if (lit.text === '-inf') return -Infinity;
    if (lit.text === 'nan') return NaN;
    return Number(lit.text);
  }
  return undefined;
}

const INT_RANGES: Partial<Record<DType, [bigint, bigint]>> = {
  i4: [-8n, 7n], u4: [0n, 15n],
  i8: [-128n, 127n], u8: [0n, 255n], i16: [-32768n, 32767n], u16: [0n, 65535n],
  i32: [-(2n ** 31n), 2n ** 31n - 1n], u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n],
  bool: [0n, 255n],
};

/** Write element i; returns an error message when the literal does not fit the dtype. */
export function writeElement(dtype: DType, view: DataView, i: number, lit: ElementLit): string | undefined {
  const bits = DTYPES[dtype].bits;
  if (DTYPES[dtype].cls === 'float') {
    if (lit.kind === 'hex') {
      const raw = BigInt(lit.text);
      if (raw >= 1n << BigInt(bits)) return `${lit.text} has more than ${bits} bits`;
      if (bits === 64) view.setBigUint64(i * 8, raw, true);
      else if (bits === 32) view.setUint32(i * 4, Number(raw), true);
      else writeCode(view, i, bits, Number(raw));
      return undefined;
    }
    const v = floatValue(lit);
    if (v === undefined) return `expected a number for ${dtype}`;
    if (dtype === 'f64') view.setFloat64(i * 8, v, true);
    else if (dtype === 'f32') {
      if (Number.isNaN(v)) view.setUint32(i * 4, 0x7fc00000, true);
      else view.setFloat32(i * 4, v, true);
    } else {
      const code = miniEncode(MINI[dtype]!, v);
      if (typeof code === 'string') return `${code} for ${dtype}`;
      writeCode(view, i, bits, code);
    }
    return undefined;
  }
  let n: bigint;
  if (lit.kind === 'bool') {
    if (dtype !== 'bool') return `expected an integer for ${dtype}, got ${lit.value}`;
    n = lit.value ? 1n : 0n;
  } else if (lit.kind === 'int') n = BigInt(lit.text);
  else return `expected ${dtype === 'bool' ? 'true, false or a byte' : 'an integer'} for ${dtype}, got ${lit.text}`;
  const [lo, hi] = INT_RANGES[dtype]!;
  if (n < lo || n > hi) return `${n} is out of range for ${dtype}`;
  if (bits === 4) writeCode(view, i, 4, Number(n) & 0xf);
  else if (bits === 64) view.setBigUint64(i * 8, BigInt.asUintN(64, n), true);
  else if (bits === 32) view.setUint32(i * 4, Number(BigInt.asUintN(32, n)), true);
  else if (bits === 16) view.setUint16(i * 2, Number(BigInt.asUintN(16, n)), true);
  else view.setUint8(i, Number(BigInt.asUintN(8, n)));
  return undefined;
}
