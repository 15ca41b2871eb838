// The run-time tensor: narrow float rounding and bit conversions, byte layouts (incl. packed
// 4-bit), i64 exactness, and TensorProto .pb round trips.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBits, encodeBits, FORMATS, roundHalfEven, roundToFormat } from '../../ir/interp/float.ts';
import { decodeTensorPb, encodeTensorPb } from '../../ir/interp/pb.ts';
import { fromBytes, fromConst, tensorFrom, toBytes, toConst } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { values } from './helpers.ts';

const F = FORMATS as Required<typeof FORMATS>;

test('f16 rounds to nearest even: 1/3, halfway cases, overflow, subnormals', () => {
  assert.is(roundToFormat(1 / 3, F.f16), 0.333251953125);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  assert.is(roundToFormat(1 + 2 ** -11, F.f16), 1);
  assert.is(roundToFormat(1 + 3 * 2 ** -11, F.f16), 1 + 2 * 2 ** -10);
  assert.is(roundToFormat(65504, F.f16), 65504);
  assert.is(roundToFormat(65519, F.f16), 65504);
  assert.is(roundToFormat(65520, F.f16), Infinity);
  assert.is(roundToFormat(-1e6, F.f16), -Infinity);
  assert.is(roundToFormat(2 ** -24, F.f16), 2 ** -24); // smallest subnormal
  assert.is(roundToFormat(2 ** -25, F.f16), 0); // halfway to 0: ties to even (0)
  assert.is(roundToFormat(3 * 2 ** -26, F.f16), 2 ** -24);
  assert.ok(Object.is(roundToFormat(-1e-10, F.f16), -0));
  assert.ok(Number.isNaN(roundToFormat(NaN, F.f16)));
});

test('every f16, bf16 and fp8 bit pattern decodes, re-rounds to itself and encodes back', () => {
  for (const [name, f] of Object.entries(F)) {
    const bits = 1 + f.expBits + f.mantBits;
    for (let b = 0; b < 1 << bits; b++) {
      const v = decodeBits(b, f);
      if (Number.isNaN(v)) continue;
      assert.is(roundToFormat(v, f), v, `${name} pattern ${b}`);
      const back = encodeBits(v, f);
      assert.is(decodeBits(back, f), v, `${name} pattern ${b} re-encodes`);
    }
  }
});

test('known bit patterns: f16 1/3, bf16 1/3, fp8 maxima, fp4 values', () => {
  assert.is(encodeBits(0.333251953125, F.f16), 0x3555);
  assert.is(decodeBits(0x3eab, F.bf16), 0.333984375);
  assert.is(roundToFormat(1 / 3, F.bf16), 0.333984375);
  assert.is(decodeBits(0x7e, F.f8e4m3fn), 448);
  assert.ok(Number.isNaN(decodeBits(0x7f, F.f8e4m3fn)));
  assert.is(decodeBits(0x7f, F.f8e4m3fnuz), 240);
  assert.ok(Number.isNaN(decodeBits(0x80, F.f8e4m3fnuz)));
  assert.is(decodeBits(0x7b, F.f8e5m2), 57344);
  assert.is(decodeBits(0x7c, F.f8e5m2), Infinity);
  assert.equal(Array.from({ length: 8 }, (_, b) => decodeBits(b, F.f4e2m1)), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
});

test('fp8 saturation follows ONNX Cast', () => {
  // saturate = true: out of range and Inf clamp to ±max, except Inf in the fnuz formats → NaN.
  assert.is(roundToFormat(1000, F.f8e4m3fn, true), 448);
  assert.is(roundToFormat(-Infinity, F.f8e4m3fn, true), -448);
  assert.is(roundToFormat(Infinity, F.f8e5m2, true), 57344);
  assert.ok(Number.isNaN(roundToFormat(Infinity, F.f8e4m3fnuz, true)));
  assert.is(roundToFormat(1e6, F.f8e5m2fnuz, true), 57344);
  // saturate = false: NaN where the format has no Inf, Inf where it has.
  assert.ok(Number.isNaN(roundToFormat(1000, F.f8e4m3fn, false)));
  assert.is(roundToFormat(1e6, F.f8e5m2, false), Infinity);
  assert.is(roundToFormat(-Infinity, F.f8e5m2, false), -Infinity);
  // 464 is halfway between 448 and 480 (which overflows): ties to even keep 448.
  assert.is(roundToFormat(464, F.f8e4m3fn, false), 448);
  assert.ok(Number.isNaN(roundToFormat(465, F.f8e4m3fn, false)));
  // fnuz formats have no negative zero.
  assert.ok(Object.is(roundToFormat(-1e-9, F.f8e4m3fnuz), 0));
});

test('roundHalfEven', () => {
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3, -3]);
});

test('f16 tensors hold exactly representable values', () => {
  const x = tensorFrom('f16', [3], [1 / 3, 0.1, 70000]);
  assert.equal(values(x), [0.333251953125, 0.0999755859375, Infinity]);
  const bytes = toBytes(x);
  assert.equal([...bytes.slice(0, 2)], [0x55, 0x35]);
  assert.equal(values(fromBytes('f16', [3], bytes)), values(x));
});

test('i64 stays exact beyond 2^53 through bytes, constants and .pb files', () => {
  const big = 2n ** 62n + 1n;
  const x = tensorFrom('i64', [2], [big, -big]);
  assert.equal(values(fromBytes('i64', [2], toBytes(x))), [big, -big]);
  assert.equal(values(fromConst(toConst(x))), [big, -big]);
  const { tensor, name } = decodeTensorPb(encodeTensorPb(x, 'v'));
  assert.is(name, 'v');
  assert.equal(values(tensor), [big, -big]);
  const u = tensorFrom('u64', [1], [2n ** 64n - 1n]);
  assert.equal(values(decodeTensorPb(encodeTensorPb(u)).tensor), [2n ** 64n - 1n]);
});

test('4-bit types unpack low nibble first and pack back', () => {
  const bytes = new Uint8Array([0x21, 0xf8, 0x07]);
  const i4 = fromBytes('i4', [5], bytes);
  assert.equal(values(i4), [1, 2, -8, -1, 7]);
  assert.equal([...toBytes(i4)], [0x21, 0xf8, 0x07]);
  assert.equal(values(fromBytes('u4', [4], bytes)), [1, 2, 8, 15]);
  assert.equal(values(fromBytes('f4e2m1', [2], new Uint8Array([0x7f]))), [-6, 6]);
});

test('constants decode as views when aligned and copies when not', () => {
  const c = constTensor('f32', [2, 2], [1, 2, 3, 4]);
  assert.equal(values(fromConst(c)), [1, 2, 3, 4]);
  const raw = new Uint8Array(17);
  raw.set(toBytes(tensorFrom('f32', [4], [5, 6, 7, 8])), 1);
  assert.equal(values(fromBytes('f32', [4], raw.subarray(1))), [5, 6, 7, 8]);
});

test('strings and bool round-trip through .pb', () => {
  const s = tensorFrom('string', [2], ['a', 'héllo']);
  assert.equal(values(decodeTensorPb(encodeTensorPb(s)).tensor), ['a', 'héllo']);
  const b = tensorFrom('bool', [3], [1, 0, 1]);
  const back = decodeTensorPb(encodeTensorPb(b)).tensor;
  assert.is(back.dtype, 'bool');
  assert.equal(values(back), [1, 0, 1]);
});

test('f16 and bf16 .pb files round-trip bit-exactly', () => {
  for (const dtype of ['f16', 'bf16', 'f8e4m3fn', 'f8e5m2'] as const) {
    const x = tensorFrom(dtype, [4], [1 / 3, -2.5, 0, 100]);
    const back = decodeTensorPb(encodeTensorPb(x)).tensor;
    assert.is(back.dtype, dtype);
    assert.equal(values(back), values(x), dtype);
  }
});

test.run();
