// The safetensors file format (Hugging Face's): an 8-byte little-endian u64 N, N bytes of UTF-8
// JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {k: v}}`, then
// the tensors' bytes, offsets relative to the end of the header. lathe writes packed weights in it
// because every framework can read it and a browser host can parse it in ten lines.
//
// Alignment without holes: the format forbids gaps between tensors (so no padding bytes can hide
// data), so alignment comes from order instead, as the reference writer does: the header is padded
// with spaces to a multiple of 8, and tensors are laid out by element size, largest first, so each
// starts at a multiple of its own element size (8-byte types at multiples of 8, f32 at 4, ...) and
// a reader can view it as a typed array without copying.
//
// Streaming: the header needs only dtypes and shapes, so the writer lays out first, then asks each
// entry for its bytes one at a time and writes them; a model's constants (FileRange or InlineBytes)
// are never all in memory at once.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DType } from '../ir/dtype.ts';
import { byteSize, DTYPES } from '../ir/dtype.ts';
import { LatheError } from '../ir/errors.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { tensorBytes } from '../ir/tensor-data.ts';
import { numElements } from '../ir/types.ts';

/** safetensors' dtype names for the lathe dtypes it can hold. */
const TO_ST: Partial<Record<DType, string>> = {
  f64: 'F64', f32: 'F32', f16: 'F16', bf16: 'BF16',
  i8: 'I8', i16: 'I16', i32: 'I32', i64: 'I64',
  u8: 'U8', u16: 'U16', u32: 'U32', u64: 'U64',
  bool: 'BOOL', f8e4m3fn: 'F8_E4M3', f8e5m2: 'F8_E5M2',
};
const FROM_ST = new Map(Object.entries(TO_ST).map(([d, s]) => [s, d as DType]));

export function safetensorsDType(dtype: DType): string {
  const s = TO_ST[dtype];
  if (!s) throw new LatheError('UnsupportedType', `safetensors has no ${dtype} element type (pack it as u8 first)`);
  return s;
}

/** One tensor to write. `bytes` is called once, when the writer reaches it. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  bytes(): Uint8Array;
}

/** A constant written as it is (its bytes read lazily, when the writer reaches it). */
export function constEntry(name: string, t: ConstTensor): SafetensorsEntry {
  return { name, dtype: t.dtype, shape: t.shape, bytes: () => tensorBytes(t) };
}

/** Where a tensor lies: offsets relative to the data section, as in the header. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsLayout {
  /** The 8-byte length and the padded JSON header. */
  readonly header: Uint8Array;
  /** Absolute file offset of the data section (header.length; a multiple of 8). */
  readonly dataStart: number;
  /** In file order (element size descending, then the order given). */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly totalBytes: number;
}

const elemBits = (d: DType) => DTYPES[d].bits;

/** Lays the entries out (no bytes read). Names must be unique and not `__metadata__`. */
export function safetensorsLayout(entries: readonly Omit<SafetensorsEntry, 'bytes'>[], metadata?: Record<string, string>): SafetensorsLayout {
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.name === '__metadata__') throw new LatheError('UsageError', `safetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (seen.has(e.name)) throw new LatheError('UsageError', `safetensors: tensor '${e.name}' is written twice`);
    seen.add(e.name);
    safetensorsDType(e.dtype);
  }
  // Stable sort: equal element sizes keep the caller's order, so the file is deterministic.
  const ordered = entries.map((e, i) => ({ e, i })).sort((a, b) => elemBits(b.e.dtype) - elemBits(a.e.dtype) || a.i - b.i);
  const tensors: SafetensorsTensorInfo[] = [];
  let at = 0;
  for (const { e } of ordered) {
    const n = byteSize(e.dtype, numElements(e.shape));
    tensors.push({ name: e.name, dtype: e.dtype, shape: [...e.shape], begin: at, end: at + n });
    at += n;
  }
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) json.__metadata__ = metadata;
  for (const t of tensors) json[t.name] = { dtype: safetensorsDType(t.dtype), shape: t.shape, data_offsets: [t.begin, t.end] };
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + text.length); // trailing spaces are valid JSON whitespace
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, dataStart: header.length, tensors, totalBytes: header.length + at };
}

function checkedBytes(e: SafetensorsEntry, info: SafetensorsTensorInfo): Uint8Array {
  const b = e.bytes();
  if (b.length !== info.end - info.begin) {
    throw new LatheError('TensorDataError', `safetensors: tensor '${e.name}' (${e.dtype}[${e.shape.join(', ')}]) needs ${info.end - info.begin} bytes, its source gave ${b.length}`);
  }
  return b;
}

/** Writes a .safetensors file, one tensor's bytes in memory at a time. */
export function writeSafetensorsFile(path: string, entries: readonly SafetensorsEntry[], metadata?: Record<string, string>): SafetensorsLayout {
  const layout = safetensorsLayout(entries, metadata);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, layout.header);
    for (const info of layout.tensors) writeAll(fd, checkedBytes(byName.get(info.name)!, info));
  } finally {
    closeSync(fd);
  }
  return layout;
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let done = 0; done < b.length; ) done += writeSync(fd, b, done, b.length - done);
}

/** The whole file in memory (tests, small models, a browser). */
export function encodeSafetensors(entries: readonly SafetensorsEntry[], metadata?: Record<string, string>): Uint8Array {
  const layout = safetensorsLayout(entries, metadata);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.header, 0);
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const info of layout.tensors) out.set(checkedBytes(byName.get(info.name)!, info), layout.dataStart + info.begin);
  return out;
}

export interface SafetensorsHeader {
  readonly dataStart: number;
  /** In file order. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly metadata: Record<string, string>;
}

// A header over 100 MB is not a weights file but an attack or corruption (the reference reader's limit).
const MAX_HEADER = 100_000_000;

/**
 * Parses and checks a header: the JSON, every entry's dtype and shape, offsets that agree with
 * them, cover the data section with no gap or overlap, and end at `fileBytes`.
 */
export function parseSafetensorsHeader(first8: Uint8Array, readJson: (length: number) => Uint8Array, fileBytes: number, file?: string): SafetensorsHeader {
  const bad = (why: string) => new LatheError('TensorDataError', `not a valid safetensors file: ${why}`, { file });
  if (fileBytes < 8 || first8.length < 8) throw bad(`${fileBytes} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, fileBytes - 8))) throw bad(`header length ${n} does not fit in ${fileBytes} bytes`);
  const dataStart = 8 + Number(n);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readJson(Number(n))));
  } catch (e) {
    throw bad(`header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('header is not a JSON object');
  const tensors: SafetensorsTensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string')) throw bad('__metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? FROM_ST.get(e.dtype) : undefined;
    if (!dtype) throw bad(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}, which lathe does not read`);
    const isUint = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isUint)) throw bad(`tensor '${name}' has shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isUint) || off[1] < off[0]) throw bad(`tensor '${name}' has data_offsets ${JSON.stringify(off)}`);
    const want = byteSize(dtype, numElements(e.shape as number[]));
    if (off[1] - off[0] !== want) throw bad(`tensor '${name}' is ${dtype}[${(e.shape as number[]).join(', ')}] (${want} bytes) but data_offsets span ${off[1] - off[0]}`);
    tensors.push({ name, dtype, shape: e.shape as number[], begin: off[0], end: off[1] });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of tensors) {
    if (t.begin !== at) throw bad(`tensor '${t.name}' begins at ${t.begin}, expected ${at} (a gap or an overlap)`);
    at = t.end;
  }
  if (dataStart + at !== fileBytes) throw bad(`the tensors end at byte ${dataStart + at} but the file has ${fileBytes}`);
  return { dataStart, tensors, metadata };
}

/** A decoded tensor: a view into the file's bytes (aligned for its type when lathe wrote it). */
export interface SafetensorsTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Reads a whole file already in memory; the tensors are views into `file`. */
export function decodeSafetensors(file: Uint8Array): { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> } {
  const h = parseSafetensorsHeader(file.subarray(0, 8), (n) => file.subarray(8, 8 + n), file.length);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of h.tensors) tensors.set(t.name, { dtype: t.dtype, shape: t.shape, bytes: file.subarray(h.dataStart + t.begin, h.dataStart + t.end) });
  return { tensors, metadata: h.metadata };
}

/** Reads only the header of a file on disk. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (pos: number, n: number) => {
      const b = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const k = readSync(fd, b, done, n - done, pos + done);
        if (k === 0) break;
        done += k;
      }
      return b.subarray(0, done);
    };
    return parseSafetensorsHeader(read(0, Math.min(8, size)), (n) => read(8, n), size, path);
  } finally {
    closeSync(fd);
  }
}

/** A file's tensors as lathe constants whose bytes stay on disk until asked for (FileRange). */
export function openSafetensors(file: string): { tensors: Map<string, ConstTensor>; metadata: Record<string, string> } {
  const path = resolve(file); // FileRange paths are absolute
  const h = readSafetensorsHeader(path);
  const tensors = new Map<string, ConstTensor>();
  for (const t of h.tensors) {
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: { kind: 'file', path, offset: h.dataStart + t.begin, length: t.end - t.begin } });
  }
  return { tensors, metadata: h.metadata };
}
