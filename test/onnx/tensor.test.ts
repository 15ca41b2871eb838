import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OnnxTypes } from '../../ir/onnx/proto.ts';
import { onnx } from '../../ir/onnx/proto.ts';
import { tensorFromProto } from '../../ir/onnx/tensor.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { DT } from './build.ts';
import { throwsLathe } from './errors.ts';

/** Through the wire and back, so int64 fields arrive as protobufjs Longs as in a real model. */
function convert(t: OnnxTypes.ITensorProto): ConstTensor {
  return tensorFromProto(onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish()), {}, {});
}
const bytesOf = (t: ConstTensor): number[] => (t.data.kind === 'bytes' ? [...t.data.bytes] : []);
const le = (a: ArrayBufferView): number[] => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];

test('float_data and double_data pack little-endian', () => {
  assert.equal(bytesOf(convert({ name: 'a', dims: [2], dataType: DT.FLOAT, floatData: [1.5, -2] })), le(new Float32Array([1.5, -2])));
  assert.equal(bytesOf(convert({ name: 'b', dims: [1], dataType: DT.DOUBLE, doubleData: [0.1] })), le(new Float64Array([0.1])));
});

test('int64_data keeps all 64 bits', () => {
  const values = [-1n, 2n ** 62n + 1n, -(2n ** 63n)];
  const t = convert({ name: 'a', dims: [3], dataType: DT.INT64, int64Data: values.map((v) => v.toString()) as never });
  assert.equal(bytesOf(t), le(new BigInt64Array(values)));
});

test('narrow ints, bool, f16 and fp8 bit patterns come from int32_data', () => {
  assert.equal(bytesOf(convert({ name: 'a', dims: [2], dataType: DT.INT8, int32Data: [-1, 5] })), [0xff, 5]);
  assert.equal(bytesOf(convert({ name: 'b', dims: [1], dataType: DT.UINT16, int32Data: [0xbeef] })), [0xef, 0xbe]);
  assert.equal(bytesOf(convert({ name: 'c', dims: [2], dataType: DT.BOOL, int32Data: [1, 0] })), [1, 0]);
  assert.equal(bytesOf(convert({ name: 'd', dims: [1], dataType: DT.FLOAT16, int32Data: [0x3c00] })), [0x00, 0x3c]);
  assert.equal(bytesOf(convert({ name: 'e', dims: [1], dataType: DT.INT32, int32Data: [-2] })), le(new Int32Array([-2])));
  const fp8 = convert({ name: 'f', dims: [2], dataType: 17, int32Data: [0x38, 0xb8] });
  assert.is(fp8.dtype, 'f8e4m3fn');
  assert.equal(bytesOf(fp8), [0x38, 0xb8]);
});

test('4-bit types: each int32_data entry is a byte holding two elements', () => {
  const t = convert({ name: 'q', dims: [3], dataType: 22, int32Data: [0x21, 0x03] });
  assert.is(t.dtype, 'i4');
  assert.equal(bytesOf(t), [0x21, 0x03]);
  throwsLathe(() => convert({ name: 'q', dims: [3], dataType: 22, int32Data: [1, 2, 3] }), 'TensorDataError', ["'q'", '2 int32_data']);
});

test('u32 and u64 come from uint64_data', () => {
  assert.equal(bytesOf(convert({ name: 'a', dims: [1], dataType: DT.UINT32, uint64Data: [0xfffffffe] })), [0xfe, 0xff, 0xff, 0xff]);
  const max = convert({ name: 'b', dims: [1], dataType: DT.UINT64, uint64Data: ['18446744073709551615'] as never });
  assert.equal(bytesOf(max), new Array(8).fill(0xff));
});

test('string_data becomes string elements', () => {
  const enc = new TextEncoder();
  const t = convert({ name: 's', dims: [2], dataType: DT.STRING, stringData: [enc.encode('a'), enc.encode('ß')] });
  assert.equal(t.data, { kind: 'strings', values: ['a', 'ß'] });
});

test('an empty tensor needs no data; a scalar needs one element', () => {
  assert.equal(bytesOf(convert({ name: 'e', dims: [0, 3], dataType: DT.FLOAT })), []);
  throwsLathe(() => convert({ name: 'k', dims: [], dataType: DT.FLOAT }), 'TensorDataError', ["'k'", 'has no data']);
});

test('complex and unknown element types are UnsupportedType naming the tensor', () => {
  throwsLathe(() => convert({ name: 'z', dims: [1], dataType: DT.COMPLEX64, floatData: [1, 2] }), 'UnsupportedType', ["'z'", 'COMPLEX64']);
  throwsLathe(() => convert({ name: 'u', dims: [1], dataType: 99, rawData: new Uint8Array(4) }), 'UnsupportedType', ["'u'", '99']);
});

test('declared dims larger than the data are TensorDataError with both sizes', () => {
  throwsLathe(
    () => convert({ name: 'w', dims: [4, 4], dataType: DT.FLOAT, rawData: new Uint8Array(60) }),
    'TensorDataError',
    ["'w'", '64 bytes', 'has 60'],
  );
  throwsLathe(() => convert({ name: 'v', dims: [3], dataType: DT.FLOAT, floatData: [1, 2] }), 'TensorDataError', ["'v'", 'needs 3', 'has 2']);
  throwsLathe(() => convert({ name: 's', dims: [2], dataType: DT.STRING, stringData: [] }), 'TensorDataError', ["'s'", 'needs 2', 'has 0']);
});

test.run();
