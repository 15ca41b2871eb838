// The outlier fixture (fixtures/outlier-block) after the default pipeline and svdquant, for the
// backend tests: the compiled model must reproduce the interpreter's simulation of it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInputs } from '../../compiler/conformance.ts';
import type { Model } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { toF64 } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

export const OUTLIER_BLOCK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/outlier-block');

/** The fixture quantized (calibration cached after the first use), with its test input. */
export function quantizedOutlierBlock(format: 'int4' | 'nvfp4'): { model: Model; inputs: Tensor[] } {
  const model = importOnnxFile(path.join(OUTLIER_BLOCK, 'model.onnx'));
  const inputs = readInputs(model.graph, path.join(OUTLIER_BLOCK, 'test_data_set_0')) as Tensor[];
  const p = parsePipeline(`default,svdquant{format=${format} compare=false table=false workers=1}`);
  return { model: runPipeline(model, p).model, inputs };
}

/** max |a − b| / max |b| */
export function relMaxError(a: Tensor, b: Tensor): number {
  const x = toF64(a);
  const y = toF64(b);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return err / scale;
}
