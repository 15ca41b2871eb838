// The safetensors writer and reader: byte-exact against the format as specified, aligned tensors,
// streaming (each tensor's bytes asked for once, in file order), and refusal of damaged files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  constEntry,
  decodeSafetensors,
  encodeSafetensors,
  openSafetensors,
  readSafetensorsHeader,
  writeSafetensorsFile,
  type SafetensorsEntry,
} from '../../backends/safetensors.ts';
import type { DType } from '../../ir/dtype.ts';
import { constTensor, tensorBytes } from '../../ir/tensor-data.ts';
import { throwsLathe } from '../onnx/errors.ts';

const u8 = (...xs: number[]) => new Uint8Array(xs);
const entry = (name: string, dtype: DType, shape: number[], bytes: Uint8Array): SafetensorsEntry => ({ name, dtype, shape, bytes: () => bytes });

test('one f32 tensor: the exact bytes the format specifies', () => {
  const data = new Uint8Array(new Float32Array([1, -2]).buffer);
  const file = encodeSafetensors([entry('a', 'f32', [2], data)]);
  // Written by hand from the format: u64 LE header length, JSON padded with spaces to 8, data.
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const padded = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const expected = new Uint8Array(8 + padded.length + 8);
  new DataView(expected.buffer).setBigUint64(0, BigInt(padded.length), true);
  expected.set(new TextEncoder().encode(padded), 8);
  expected.set(data, 8 + padded.length);
  assert.equal([...file], [...expected]);
});

test('mixed dtypes round-trip, each tensor aligned to its element size, metadata kept', () => {
  const entries = [
    entry('flag', 'bool', [3], u8(1, 0, 1)),
    entry('half', 'f16', [3], u8(0, 0x3c, 0, 0xc0, 0xff, 0x7b)), // odd count: ends at 2 mod 4
    entry('w', 'f32', [2, 3], new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer)),
    entry('ids', 'i64', [2], new Uint8Array(new BigInt64Array([-1n, 1n << 40n]).buffer)),
    entry('scalar', 'i32', [], new Uint8Array(new Int32Array([7]).buffer)),
    entry('empty', 'f32', [0, 4], new Uint8Array(0)),
  ];
  const file = encodeSafetensors(entries, { producer: 'lathe' });
  const headerLen = Number(new DataView(file.buffer).getBigUint64(0, true));
  assert.is(headerLen % 8, 0);
  const { tensors, metadata } = decodeSafetensors(file);
  assert.equal(metadata, { producer: 'lathe' });
  for (const e of entries) {
    const t = tensors.get(e.name)!;
    assert.ok(t, e.name);
    assert.is(t.dtype, e.dtype);
    assert.equal(t.shape, e.shape);
    assert.equal([...t.bytes], [...e.bytes()], e.name);
    const size = { bool: 1, f16: 2, f32: 4, i32: 4, i64: 8 }[e.dtype as 'f32']!;
    assert.is(t.bytes.byteOffset % size, 0, `${e.name} aligned to ${size}`);
  }
  // Element size descending: the i64 first, the bool last; equal sizes keep the given order.
  const h = decodeHeaderOrder(file);
  assert.equal(h, ['ids', 'w', 'scalar', 'empty', 'half', 'flag']);
  assert.equal(new BigInt64Array(tensors.get('ids')!.bytes.slice().buffer)[1], 1n << 40n);
});

function decodeHeaderOrder(file: Uint8Array): string[] {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  return Object.entries(json).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]).map(([k]) => k);
}

test('writing a file streams: each source read once, in file order; reading back is lazy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-st-'));
  // One constant lives in a file (a FileRange, like ONNX external data), one in memory.
  const raw = join(dir, 'raw.bin');
  writeFileSync(raw, new Uint8Array(new Float32Array([9, 8, 7, 6, 5]).buffer));
  const fromFile = { dtype: 'f32' as const, shape: [2], data: { kind: 'file' as const, path: raw, offset: 8, length: 8 } };
  const inline = constTensor('i32', [3], [1, -2, 3]);
  const calls: string[] = [];
  const spy = (e: SafetensorsEntry): SafetensorsEntry => ({ ...e, bytes: () => (calls.push(e.name), e.bytes()) });
  const out = join(dir, 'w.safetensors');
  const layout = writeSafetensorsFile(out, [spy(constEntry('small', constTensor('u8', [1], [5]))), spy(constEntry('b', inline)), spy(constEntry('a', fromFile))]);
  assert.equal(calls, ['b', 'a', 'small']);
  assert.is(readFileSync(out).length, layout.totalBytes);
  const { tensors } = openSafetensors(out);
  const a = tensors.get('a')!;
  assert.is(a.data.kind, 'file');
  assert.equal([...new Float32Array(tensorBytes(a).slice().buffer)], [7, 6]);
  assert.equal([...new Int32Array(tensorBytes(tensors.get('b')!).slice().buffer)], [1, -2, 3]);
  assert.equal(readSafetensorsHeader(out).tensors.map((t) => t.name), ['b', 'a', 'small']);
});

test('bad entries are refused before anything is written', () => {
  const x = entry('x', 'f32', [1], new Uint8Array(4));
  throwsLathe(() => encodeSafetensors([x, x]), 'UsageError', ["'x'", 'twice']);
  throwsLathe(() => encodeSafetensors([entry('__metadata__', 'f32', [1], new Uint8Array(4))]), 'UsageError', ['reserved']);
  throwsLathe(() => encodeSafetensors([entry('q', 'i4', [2], new Uint8Array(1))]), 'UnsupportedType', ['i4']);
  throwsLathe(() => encodeSafetensors([entry('short', 'f32', [2], new Uint8Array(4))]), 'TensorDataError', ["'short'", '8 bytes', 'gave 4']);
});

/** A file with a hand-written header (to make damaged ones). */
function handMade(header: unknown, dataBytes: number, lengthOverride?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const f = new Uint8Array(8 + text.length + dataBytes);
  new DataView(f.buffer).setBigUint64(0, lengthOverride ?? BigInt(text.length), true);
  f.set(text, 8);
  return f;
}

test('damaged files are TensorDataErrors that say what is wrong', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  assert.is(decodeSafetensors(handMade(ok, 8)).tensors.size, 1); // unpadded headers are valid too
  const cases: [Uint8Array, string][] = [
    [u8(1, 2, 3), 'shorter than'],
    [handMade(ok, 8, 1n << 40n), 'does not fit'],
    [handMade('{"a": ', 8), 'not UTF-8 JSON'],
    [handMade('[1]', 0), 'not a JSON object'],
    [handMade({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), 'dtype "C64"'],
    [handMade({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'shape'],
    [handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4), 'span 4'],
    [handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'begins at 4, expected 0'],
    [handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4), 'gap or an overlap'],
    [handMade(ok, 12), 'the file has'],
    [handMade({ __metadata__: { n: 1 } }, 0), '__metadata__'],
  ];
  for (const [file, words] of cases) throwsLathe(() => decodeSafetensors(file), 'TensorDataError', ['not a valid safetensors file', words]);
});

test.run();
