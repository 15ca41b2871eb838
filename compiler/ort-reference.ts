// ONNX Runtime (CPU) as a reference for `lathe check`: runs the original ONNX file on the same
// inputs as lathe's interpreter. onnxruntime-node is a development dependency, loaded on demand
// so the rest of lathe never needs it.
import { LatheError } from '../ir/errors.ts';
import type { DType } from '../ir/dtype.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { toBytes, tensorFrom, fromBytes } from '../ir/interp/tensor.ts';

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    // A CommonJS package: its exports arrive as `default` or as named exports, by loader.
    const m = (await import('onnxruntime-node')) as Ort & { default?: Ort };
    return m.default?.InferenceSession ? m.default : m;
  } catch (e) {
    throw new LatheError(
      'UsageError',
      `ONNX Runtime is not installed (npm install --save-dev onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=skip): ${(e as Error).message}`,
    );
  }
}

/** lathe dtype ↔ ONNX Runtime's tensor type names. */
const ORT_TYPES: Partial<Record<DType, string>> = {
  f32: 'float32', f64: 'float64', f16: 'float16', i8: 'int8', i16: 'int16', i32: 'int32', i64: 'int64',
  u8: 'uint8', u16: 'uint16', u32: 'uint32', u64: 'uint64', bool: 'bool', string: 'string',
};
const FROM_ORT = new Map(Object.entries(ORT_TYPES).map(([k, v]) => [v, k as DType]));

function toOrt(ort: Ort, t: Tensor): InstanceType<Ort['Tensor']> {
  const type = ORT_TYPES[t.dtype];
  if (!type) throw new LatheError('UnsupportedType', `ONNX Runtime has no tensor type for ${t.dtype}`);
  const dims = [...t.shape];
  if (t.dtype === 'f16') {
    const b = toBytes(t);
    return new ort.Tensor('float16', new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2), dims);
  }
  return new ort.Tensor(type as 'float32', t.data as Float32Array, dims);
}

function fromOrt(o: InstanceType<Ort['Tensor']>): Tensor {
  const dtype = FROM_ORT.get(o.type);
  if (!dtype) throw new LatheError('UnsupportedType', `ONNX Runtime returned a ${o.type} tensor, which lathe cannot compare`);
  const dims = o.dims.map(Number);
  if (dtype === 'f16') {
    const bits = o.data as Uint16Array;
    return fromBytes('f16', dims, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  }
  return tensorFrom(dtype, dims, o.data as ArrayLike<number>);
}

/** Runs `modelPath` in ONNX Runtime's CPU provider; inputs and outputs by graph name. */
export async function runWithOrt(modelPath: string, inputs: ReadonlyMap<string, Tensor>): Promise<Map<string, Tensor>> {
  const ort = await loadOrt();
  let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(modelPath, { logSeverityLevel: 3 });
  } catch (e) {
    throw new LatheError('UnsupportedOp', `ONNX Runtime cannot load the model: ${(e as Error).message}`, { file: modelPath });
  }
  try {
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, t] of inputs) feeds[name] = toOrt(ort, t);
    const results = await session.run(feeds);
    return new Map(session.outputNames.map((n) => [n, fromOrt(results[n]!)]));
  } finally {
    await session.release();
  }
}
