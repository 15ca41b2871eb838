// Shared by the text-form tests: the round-trip check, and byte builders for constants.
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import type { DType } from '../../ir/dtype.ts';
import type { Model } from '../../ir/graph.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { parseModel, type ParseOptions } from '../../ir/text/parse.ts';
import { printModel, type PrintOptions } from '../../ir/text/print.ts';

/** print → parse → print gives the same text, and the parsed model equals the original. */
export function roundTrip(m: Model, print: PrintOptions = {}, parse: ParseOptions = {}): { text: string; parsed: Model } {
  const text = printModel(m, print);
  const parsed = parseModel(text, { baseDir: print.baseDir, ...parse });
  // The second print needs no sink: every large constant now lives in a file already.
  const again = printModel(parsed, { ...print, weights: undefined });
  assert.fixture(again, text);
  const diff = modelsEqual(parsed, m);
  assert.is(diff, null, `${diff}\n${text}`);
  return { text, parsed };
}

export function bytesTensor(dtype: DType, shape: number[], bytes: Uint8Array | number[]): ConstTensor {
  return { dtype, shape, data: { kind: 'bytes', bytes: Uint8Array.from(bytes) } };
}

export function f32Tensor(values: number[]): ConstTensor {
  return bytesTensor('f32', [values.length], new Uint8Array(Float32Array.from(values).buffer));
}
